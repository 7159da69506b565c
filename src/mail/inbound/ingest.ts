import { database } from '../../db/client'
import {
  ATTACHMENT_WRITES_AT_ONCE,
  MAX_ATTACHMENTS_PER_BATCH,
  MAX_STORED_RECIPIENTS_PER_FIELD,
} from '../../limits'
import { fanoutReads, type FanoutState } from '../../db/queries/fanout'
import { insertMessages, touchAttachmentBlobs } from '../../db/queries/message-inserts'
import type { NewMessageRow } from '../../db/queries/messages'
import { domainOf } from '../../lib/address'
import { mapConcurrently } from '../../lib/concurrency'
import { randomString } from '../../lib/random'
import { notifyStored } from '../fanout/notify'
import { Refusal, type RefusalStatus } from '../refusal'
import type { Arrival, Envelope, IngestBindings, StoredMessage } from './arrival'
import { storedArrivals } from './idempotency'
import {
  BatchFull,
  checkDenylist,
  collision,
  crlfOctets,
  lookUpOwnership,
  prepareArrival,
  type Ownership,
  startParse,
  type PreparedArrival,
} from './prepare'
import { enforceMessageLimits } from './recycle'
import { sanitizeHtml } from './sanitize'
import {
  buildPack,
  packKey,
  putAttachmentBlob,
  putPack,
  type MessageContent,
  type PackSlot,
} from './storage'

export type { IngestBindings } from './arrival'

/**
 * Stores arrivals together: the exact raw bytes and the parsed bodies in R2, each
 * attachment once in R2 under its MD5, and one metadata row per recipient inbox in D1, all
 * rows in one D1 batch (one transaction). Resolves only when everything is durable; throws a
 * temporary `Refusal` otherwise, having stored no row.
 */
async function storeArrivals(
  env: IngestBindings,
  arrivals: PreparedArrival[],
  ownership: Promise<Ownership>,
  now: Date,
): Promise<StoredMessage[][]> {
  const db = database(env.DB)
  const pack = packKey(randomString(24))
  let stored: StoredMessage[][]
  let fanout: FanoutState | undefined
  let owners = new Set<string>()
  let stage = 'routing'
  // Rows of some arrivals may be committed before a later D1 batch fails: they use the pack.
  const progress = { committed: 0 }
  try {
    // Mail to a private address's encryptedInbox lands in that private inbox, with
    // originalInbox keeping the alias it was sent to (seed: "originalInbox").
    const { addresses, domainOwners } = await ownership
    const aliasOf = new Map(addresses.map((address) => [address.encryptedInbox, address.email]))
    owners = new Set([...addresses, ...domainOwners].map((row) => row.owner))

    const blobs = new Map(
      arrivals.flatMap((arrival) => arrival.parsed.attachments.map((a) => [a.md5, a])),
    )
    stage = 'D1 (attachment blobs)'
    await touchAttachmentBlobs(
      db,
      [...blobs.values()].map((a) => ({ md5: a.md5, size: a.size })),
      now,
    )

    stage = 'R2'
    const contents = await Promise.all(
      arrivals.map(async ({ parsed }): Promise<MessageContent> => ({
        text: parsed.text,
        html: parsed.html,
        body: await sanitizeHtml(parsed.html),
        truncated: parsed.truncated,
      })),
    )
    const built = buildPack(
      arrivals.map((arrival, i) => ({ raw: arrival.raw, content: contents[i] })),
    )
    const missing = new Set(arrivals.flatMap((arrival) => [...arrival.missingBlobs]))
    await Promise.all([
      putPack(env.MAIL, pack, built),
      mapConcurrently(
        [...blobs.values()].filter((a) => missing.has(a.md5)),
        ATTACHMENT_WRITES_AT_ONCE,
        (a) => putAttachmentBlob(env.MAIL, a),
      ),
    ])

    stage = 'D1 (messages)'
    const rows = arrivals.map((arrival, i) =>
      messageRows(arrival, randomString(24), { packKey: pack, ...built.slots[i] }, aliasOf, now),
    )
    stored = rows.map((arrivalRows) =>
      arrivalRows.map((row) => ({ _id: row.id, inbox: row.inbox })),
    )
    // Without an owner among the recipients nothing is recycled after the write, so what
    // announcing needs is read in the write's own transaction: one D1 round trip less before
    // the acknowledgement. With owners it is read after recycling (see below).
    const reads = owners.size === 0 ? fanoutReads(db, stored.flat()) : null
    const results = await insertMessages(
      db,
      arrivals.map((arrival, i) => ({
        key: arrival.key,
        maybeStored: arrival.maybeStored,
        rows: rows[i],
        headers: arrival.parsed.headers,
        attachments: arrival.parsed.attachments.map((a, position) => ({
          position,
          md5: a.md5,
          filename: a.filename,
          contentType: a.contentType,
          contentDisposition: a.contentDisposition,
          contentId: a.contentId,
          transferEncoding: a.transferEncoding,
          size: a.size,
        })),
      })),
      now,
      progress,
      reads?.statements,
    )
    fanout = reads?.decode(results)
  } catch (error) {
    // Nothing references this pack; shared attachment blobs stay (another message may use
    // them) and are reclaimed by the retention sweep when unreferenced.
    if (progress.committed === 0) await env.MAIL.delete(pack).catch(() => undefined)
    console.error(`ingest failed at ${stage}: ${(error as Error).message}`)
    throw new Refusal(503, `Temporary storage failure (${stage}); try again later.`)
  }
  // The mail is stored: a failure to recycle old mail must not turn into a refusal. Public
  // mail (no owner among the recipients) has no message limit to enforce.
  await enforceMessageLimits(db, env.MAIL, owners).catch((error: Error) =>
    console.error(`message limit enforcement failed: ${error.message}`),
  )
  // Before the acknowledgement, so a delivery row exists for every webhook and forward of
  // acknowledged mail (the queue then retries it); never throws. Mail to owners is read back
  // here, so mail recycled just above is not announced.
  await notifyStored(env, stored.flat(), undefined, fanout)
  return stored
}

/** One D1 row per recipient inbox of an arrival; ids are `<arrival>-0`, `-1`, ... */
function messageRows(
  { parsed, raw, envelope, recipients, extracted }: PreparedArrival,
  arrivalId: string,
  location: PackSlot & { packKey: string },
  aliasOf: Map<string, string>,
  now: Date,
): NewMessageRow[] {
  const inboxes = new Map<string, string>()
  for (const recipient of recipients) {
    const inbox = aliasOf.get(recipient) ?? recipient
    if (!inboxes.has(inbox)) inboxes.set(inbox, recipient)
  }
  const md5s = [...new Set(parsed.attachments.map((a) => a.md5))]
  const crlfSize = crlfOctets(raw)
  return [...inboxes].map(([inbox, originalInbox], index) => ({
    id: `${arrivalId}-${index}`,
    inbox,
    originalInbox,
    domain: domainOf(inbox),
    from: parsed.from,
    to:
      parsed.to.length > 0
        ? parsed.to.slice(0, MAX_STORED_RECIPIENTS_PER_FIELD)
        : [{ name: '', address: originalInbox }],
    cc: parsed.cc.slice(0, MAX_STORED_RECIPIENTS_PER_FIELD),
    bcc: parsed.bcc.slice(0, MAX_STORED_RECIPIENTS_PER_FIELD),
    subject: parsed.subject,
    received: now,
    size: raw.byteLength,
    crlfSize,
    attachments: md5s,
    labels: [],
    envelopeFrom: envelope.from,
    sender: (parsed.from[0]?.address ?? '').toLowerCase(),
    ip: envelope.ip ?? null,
    ...extracted,
    ...location,
  }))
}

/**
 * Stores one arrival. Resolves with the stored message ids only once everything is durable
 * (or with the ids stored by an earlier attempt of the same arrival); throws a `Refusal`
 * (permanent or temporary) otherwise, having stored no row.
 */
export async function ingestMessage(
  env: IngestBindings,
  raw: Uint8Array,
  envelope: Envelope,
  now = new Date(),
): Promise<StoredMessage[]> {
  const [result] = await ingestBatch(env, [{ raw, envelope }], now)
  if ('status' in result) throw new Refusal(result.status, result.message)
  return result.messages
}

export type BatchResult =
  { messages: StoredMessage[] } | { status: RefusalStatus; error: string; message: string }

/** The error of an arrival left out of a full batch: temporary, to send again in another. */
export const BATCH_FULL = 'batch-full'

/**
 * Stores many arrivals in one pass (one D1 transaction, R2 writes in parallel), which is
 * how the SMTP bridge keeps up with bursts. Each arrival is refused on its own for permanent
 * reasons; a storage failure refuses all of them temporarily (none is stored). An arrival
 * already stored (its key is known) is answered with the ids stored then, and stored again
 * never.
 */
export async function ingestBatch(
  env: IngestBindings,
  items: Arrival[],
  now = new Date(),
): Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(items.length)
  const envelopes = items.map((item) => item.envelope)
  const ownership = lookUpOwnership(env, envelopes)
  const keys = envelopes.map((envelope) => envelope.key ?? null)
  const lookups = Promise.all([
    checkDenylist(env, envelopes),
    lookUpStored(
      env,
      envelopes.flatMap((envelope) => (envelope.key && envelope.maybeStored ? [envelope.key] : [])),
      now,
    ),
  ])
  // Parsing runs while the lookups are out (their I/O would otherwise be idle time).
  const parsings = items.map((item) => startParse(item.raw))
  const [denied, known] = await lookups
  const prepared: { index: number; arrival: PreparedArrival }[] = []
  const firstWithKey = new Map<string, number>()
  const shaOf = new Map<string, string>()
  let attachments = 0
  for (const [index, item] of items.entries()) {
    const key = keys[index]
    if (key !== null) {
      const stored = known.get(key)
      if (stored) {
        results[index] = { messages: stored }
        continue
      }
      // The same arrival twice in one batch (a retry that caught up with its first attempt).
      if (firstWithKey.has(key)) continue
      firstWithKey.set(key, index)
    }
    try {
      // The first arrival always has room (at most MAX_ATTACHMENTS_PER_MESSAGE).
      const room = prepared.length === 0 ? undefined : MAX_ATTACHMENTS_PER_BATCH - attachments
      const arrival = await prepareArrival(
        env,
        key,
        item.raw,
        item.envelope,
        denied[index],
        room,
        parsings[index],
      )
      attachments += arrival.parsed.attachments.length
      // Two new attachments of one batch with one MD5 and other bytes: the later is refused.
      for (const a of arrival.parsed.attachments) {
        if ((shaOf.get(a.md5) ?? a.sha256) !== a.sha256) throw collision(a.md5)
      }
      for (const a of arrival.parsed.attachments) shaOf.set(a.md5, a.sha256)
      prepared.push({ index, arrival })
    } catch (error) {
      if (!(error instanceof Refusal)) throw error
      const full = error instanceof BatchFull
      // A later copy of the same arrival must not be answered with this one's result.
      if (full && key !== null) firstWithKey.delete(key)
      results[index] = {
        status: error.status,
        error: full ? BATCH_FULL : 'refused',
        message: full
          ? `This batch reached ${MAX_ATTACHMENTS_PER_BATCH} attachments; send this message in another.`
          : error.message,
      }
    }
  }
  if (prepared.length > 0) {
    const stored = await storeOnce(env, prepared, ownership, now)
    prepared.forEach((entry, i) => (results[entry.index] = { messages: stored[i] }))
  }
  keys.forEach((key, index) => {
    if (key !== null) results[index] ??= results[firstWithKey.get(key) as number]
  })
  return results
}

/**
 * `storeArrivals`, unless a concurrent attempt of the same arrivals committed first: their
 * keys then make this batch fail as a whole, and the ids that attempt stored are the answer
 * (the arrivals it did not cover are stored once more, in a batch of their own).
 */
async function storeOnce(
  env: IngestBindings,
  prepared: { arrival: PreparedArrival }[],
  ownership: Promise<Ownership>,
  now: Date,
): Promise<StoredMessage[][]> {
  const arrivals = prepared.map((entry) => entry.arrival)
  try {
    return await storeArrivals(env, arrivals, ownership, now)
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    const keyed = arrivals.flatMap((arrival) => (arrival.key === null ? [] : [arrival.key]))
    const known = await lookUpStored(env, keyed, now).catch(
      () => new Map<string, StoredMessage[]>(),
    )
    if (known.size === 0) throw error
    const isKnown = (arrival: PreparedArrival) => arrival.key !== null && known.has(arrival.key)
    const rest = arrivals.filter((arrival) => !isKnown(arrival))
    const stored = rest.length > 0 ? await storeArrivals(env, rest, ownership, now) : []
    const storedNow = new Map(rest.map((arrival, i) => [arrival, stored[i]]))
    return arrivals.map((arrival) =>
      isKnown(arrival)
        ? (known.get(arrival.key as string) as StoredMessage[])
        : (storedNow.get(arrival) as StoredMessage[]),
    )
  }
}

/** Arrivals already stored, by key; a D1 failure here is temporary like any storage failure. */
async function lookUpStored(env: IngestBindings, keys: string[], now: Date) {
  try {
    return await storedArrivals(database(env.DB), keys, now)
  } catch (error) {
    console.error(`ingest failed at D1 (arrival keys): ${(error as Error).message}`)
    throw new Refusal(503, 'Temporary storage failure (arrival keys); try again later.')
  }
}
