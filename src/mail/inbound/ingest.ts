import { database } from '../../db/client'
import { findOwnershipFor } from '../../db/queries/addresses'
import { insertMessages, touchAttachmentBlobs, type NewMessageRow } from '../../db/queries/messages'
import { MAX_MESSAGE_BYTES, MAX_RECIPIENTS_PER_MESSAGE } from '../../limits'
import { domainOf, normalizeAddress } from '../../lib/address'
import type { Arrival, Envelope, StoredMessage } from './arrival'
import { storedArrivals } from './idempotency'
import { findActionLink, findCodes } from './codes'
import { denylistRefusals } from './denylist'
import { messageLinks, readHtml } from './links'
import { parseMessage, type ParsedMessage } from './parse'
import { notifyStored } from '../fanout/notify'
import { enforceMessageLimits } from './recycle'
import { randomString } from '../../lib/random'
import { Refusal, type RefusalStatus } from '../refusal'
import { sanitizeHtml } from './sanitize'
import { searchText } from './search-text'
import { attachmentKey, buildPack, packKey, type MessageContent, type PackSlot } from './storage'

/** The bindings the pipeline touches; tests pass a bucket that fails to prove no mail is lost. */
export type IngestBindings = Pick<Env, 'DB' | 'MAIL' | 'REALTIME' | 'DELIVERIES'> & {
  ACCEPTED_DOMAINS?: string
}

function acceptedDomains(setting: string | undefined): Set<string> | null {
  const domains = (setting ?? '')
    .split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean)
  return domains.length > 0 ? new Set(domains) : null
}

/** Validates and de-duplicates the envelope recipients. */
function envelopeRecipients(to: string[], setting: string | undefined): string[] {
  if (to.length === 0) throw new Refusal(400, 'The envelope has no recipient.')
  const accepted = acceptedDomains(setting)
  const recipients = new Set<string>()
  for (const input of to) {
    const address = normalizeAddress(input)
    if (!address) throw new Refusal(400, `Invalid recipient address: ${input}`)
    if (accepted && !accepted.has(domainOf(address))) {
      throw new Refusal(403, `This service does not accept mail for ${address}.`)
    }
    recipients.add(address)
  }
  if (recipients.size > MAX_RECIPIENTS_PER_MESSAGE) {
    throw new Refusal(400, `At most ${MAX_RECIPIENTS_PER_MESSAGE} recipients per message.`)
  }
  return [...recipients]
}

async function parseOrRefuse(raw: Uint8Array): Promise<ParsedMessage> {
  try {
    return await parseMessage(raw)
  } catch (error) {
    throw new Refusal(400, `The message could not be parsed: ${(error as Error).message}`)
  }
}

/** An arrival that passed the permanent checks and was parsed, ready to be stored. */
type PreparedArrival = {
  key: string | null
  /** Whether a concurrent attempt may hold the key (see `Envelope.maybeStored`). */
  maybeStored: boolean
  raw: Uint8Array
  envelope: Envelope
  recipients: string[]
  parsed: ParsedMessage
  extracted: Extracted
}

/** The links, codes, action link and search text of a message: found once, stored on every row. */
type Extracted = { links: string[]; codes: string[]; actionLink: string | null; searchText: string }

async function extract(parsed: ParsedMessage): Promise<Extracted> {
  const html = await readHtml(parsed.html)
  const links = messageLinks(parsed.text, html)
  return {
    links,
    codes: findCodes(`${parsed.subject}\n${parsed.text}`, html.text),
    actionLink: findActionLink(links, html.anchors),
    searchText: searchText(parsed, html.text),
  }
}

/**
 * The deny-list verdict of each envelope (see `denylistRefusals`), checked once per ingest
 * call before anything is parsed. A D1 failure here is temporary, like any storage failure.
 */
async function checkDenylist(env: IngestBindings, envelopes: Envelope[]) {
  try {
    return await denylistRefusals(database(env.DB), envelopes)
  } catch (error) {
    console.error(`ingest failed at D1 (deny-list): ${(error as Error).message}`)
    throw new Refusal(503, 'Temporary storage failure (deny-list); try again later.')
  }
}

type Ownership = Awaited<ReturnType<typeof findOwnershipFor>>

/**
 * Starts the ownership lookup (reservations, aliases, domain owners) of every envelope
 * recipient, so it runs during the deny-list query and the parse instead of after them: each
 * D1 round trip here delays the SMTP 250. Envelopes refused later were looked up for nothing,
 * which costs less than waiting. Awaited inside `storeArrivals`, where a failure is a
 * temporary refusal like any other storage failure.
 */
function lookUpOwnership(env: IngestBindings, envelopes: Envelope[]): Promise<Ownership> {
  const recipients = new Set<string>()
  for (const envelope of envelopes) {
    for (const input of envelope.to) {
      const address = normalizeAddress(input)
      if (address) recipients.add(address)
    }
  }
  const lookup = findOwnershipFor(database(env.DB), [...recipients])
  // Handled where it is awaited; this only stops an early refusal from leaving it unobserved.
  lookup.catch(() => undefined)
  return lookup
}

/**
 * The permanent checks and the parse: throws a permanent `Refusal`, never stores.
 * `denied` is the envelope's deny-list refusal, if any (looked up for the whole batch).
 */
async function prepareArrival(
  env: IngestBindings,
  key: string | null,
  raw: Uint8Array,
  envelope: Envelope,
  denied: string | null,
): Promise<PreparedArrival> {
  if (denied) throw new Refusal(403, denied)
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    throw new Refusal(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  }
  const recipients = envelopeRecipients(envelope.to, env.ACCEPTED_DOMAINS)
  const parsed = await parseOrRefuse(raw)
  return {
    key,
    maybeStored: envelope.maybeStored === true,
    raw,
    envelope,
    recipients,
    parsed,
    extracted: await extract(parsed),
  }
}

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
  let owners = new Set<string>()
  let stage = 'routing'
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
      [...blobs.values()].map((a) => ({ md5: a.md5, size: a.bytes.byteLength })),
      now,
    )

    stage = 'R2'
    const contents = await Promise.all(
      arrivals.map(async ({ parsed }): Promise<MessageContent> => ({
        text: parsed.text,
        html: parsed.html,
        body: await sanitizeHtml(parsed.html),
      })),
    )
    const { bytes, slots } = buildPack(
      arrivals.map((arrival, i) => ({ raw: arrival.raw, content: contents[i] })),
    )
    await Promise.all([
      env.MAIL.put(pack, bytes),
      ...[...blobs.values()].map((a) =>
        env.MAIL.put(attachmentKey(a.md5), a.bytes, {
          httpMetadata: { contentType: a.contentType },
        }),
      ),
    ])

    stage = 'D1 (messages)'
    const rows = arrivals.map((arrival, i) =>
      messageRows(arrival, randomString(24), { packKey: pack, ...slots[i] }, aliasOf, now),
    )
    await insertMessages(
      db,
      arrivals.map((arrival, i) => ({
        key: arrival.key,
        maybeStored: arrival.maybeStored,
        rows: rows[i],
        attachments: arrival.parsed.attachments.map((a, position) => ({
          position,
          md5: a.md5,
          filename: a.filename,
          contentType: a.contentType,
          contentDisposition: a.contentDisposition,
          contentId: a.contentId,
          size: a.bytes.byteLength,
        })),
      })),
      now,
    )
    stored = rows.map((arrivalRows) =>
      arrivalRows.map((row) => ({ _id: row.id, inbox: row.inbox })),
    )
  } catch (error) {
    // Nothing references this pack; shared attachment blobs stay (another message may use
    // them) and are reclaimed by the retention sweep when unreferenced.
    await env.MAIL.delete(pack).catch(() => undefined)
    console.error(`ingest failed at ${stage}: ${(error as Error).message}`)
    throw new Refusal(503, `Temporary storage failure (${stage}); try again later.`)
  }
  // The mail is stored: a failure to recycle old mail must not turn into a refusal. Public
  // mail (no owner among the recipients) has no message limit to enforce.
  await enforceMessageLimits(db, env.MAIL, owners).catch((error: Error) =>
    console.error(`message limit enforcement failed: ${error.message}`),
  )
  // Before the acknowledgement, so a delivery row exists for every webhook and forward of
  // acknowledged mail (the queue then retries it); never throws. It reads the rows back, so
  // mail recycled just above is not announced.
  await notifyStored(env, stored.flat())
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
    to: parsed.to.length > 0 ? parsed.to : [{ name: '', address: originalInbox }],
    cc: parsed.cc,
    bcc: parsed.bcc,
    subject: parsed.subject,
    received: now,
    size: raw.byteLength,
    crlfSize,
    attachments: md5s,
    labels: [],
    headers: parsed.headers,
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
  const [denied, known] = await Promise.all([
    checkDenylist(env, envelopes),
    lookUpStored(
      env,
      envelopes.flatMap((envelope) => (envelope.key && envelope.maybeStored ? [envelope.key] : [])),
      now,
    ),
  ])
  const prepared: { index: number; arrival: PreparedArrival }[] = []
  const firstWithKey = new Map<string, number>()
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
      const arrival = await prepareArrival(env, key, item.raw, item.envelope, denied[index])
      prepared.push({ index, arrival })
    } catch (error) {
      if (!(error instanceof Refusal)) throw error
      results[index] = { status: error.status, error: 'refused', message: error.message }
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

/**
 * The message's size with every bare LF counted as CRLF: POP3 sends mail with CRLF line ends,
 * and its LIST and STAT sizes must equal what RETR sends (the bridge's pop3Octets).
 */
export function crlfOctets(raw: Uint8Array): number {
  let octets = raw.byteLength
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) octets++
  }
  return octets
}
