import { database } from '../../db/client'
import { findOwnershipFor } from '../../db/queries/addresses'
import {
  insertDeliveries,
  touchAttachmentBlobs,
  type NewMessageRow,
} from '../../db/queries/messages'
import { MAX_MESSAGE_BYTES, MAX_RECIPIENTS_PER_MESSAGE } from '../../limits'
import { domainOf, normalizeAddress } from '../../lib/address'
import { findActionLink, findCodes } from './codes'
import { denylistRefusals } from './denylist'
import { messageLinks, readHtml } from './links'
import { parseMessage, type ParsedMessage } from './parse'
import { notifyStored } from '../fanout/notify'
import { enforceMessageLimits } from './recycle'
import { randomString } from '../../lib/random'
import { sanitizeHtml } from './sanitize'
import { attachmentKey, buildPack, packKey, type MessageContent, type PackSlot } from './storage'

/** The SMTP envelope of a delivery. */
export type Envelope = { from: string; to: string[]; ip?: string | null }

export type StoredMessage = { _id: string; inbox: string }

/** The bindings the pipeline touches; tests pass a bucket that fails to prove no mail is lost. */
export type IngestBindings = Pick<Env, 'DB' | 'MAIL' | 'REALTIME' | 'DELIVERIES'> & {
  ACCEPTED_DOMAINS?: string
}

/**
 * Why a delivery was not stored. `permanent` refusals (bad envelope, too large, not a domain
 * we serve) must not be retried; temporary ones (storage failed) must be, so the sender keeps
 * the mail: SMTP 4xx, `/internal/ingest` 503, and an exception out of `email()`.
 */
export class IngestRefusal extends Error {
  constructor(
    readonly permanent: boolean,
    readonly status: 400 | 403 | 413 | 503,
    message: string,
  ) {
    super(message)
    this.name = 'IngestRefusal'
  }
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
  if (to.length === 0) throw new IngestRefusal(true, 400, 'The envelope has no recipient.')
  const accepted = acceptedDomains(setting)
  const recipients = new Set<string>()
  for (const input of to) {
    const address = normalizeAddress(input)
    if (!address) throw new IngestRefusal(true, 400, `Invalid recipient address: ${input}`)
    if (accepted && !accepted.has(domainOf(address))) {
      throw new IngestRefusal(true, 403, `This service does not accept mail for ${address}.`)
    }
    recipients.add(address)
  }
  if (recipients.size > MAX_RECIPIENTS_PER_MESSAGE) {
    throw new IngestRefusal(
      true,
      400,
      `At most ${MAX_RECIPIENTS_PER_MESSAGE} recipients per message.`,
    )
  }
  return [...recipients]
}

async function parseOrRefuse(raw: Uint8Array): Promise<ParsedMessage> {
  try {
    return await parseMessage(raw)
  } catch (error) {
    throw new IngestRefusal(
      true,
      400,
      `The message could not be parsed: ${(error as Error).message}`,
    )
  }
}

/** A delivery that passed the permanent checks and was parsed, ready to be stored. */
type PreparedDelivery = {
  raw: Uint8Array
  envelope: Envelope
  recipients: string[]
  parsed: ParsedMessage
  extracted: Extracted
}

/** The links, codes and action link of a message: found once here, stored on every row. */
type Extracted = { links: string[]; codes: string[]; actionLink: string | null }

async function extract(parsed: ParsedMessage): Promise<Extracted> {
  const html = await readHtml(parsed.html)
  const links = messageLinks(parsed.text, html)
  return {
    links,
    codes: findCodes(`${parsed.subject}\n${parsed.text}`, html.text),
    actionLink: findActionLink(links, html.anchors),
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
    throw new IngestRefusal(false, 503, 'Temporary storage failure (deny-list); try again later.')
  }
}

type Ownership = Awaited<ReturnType<typeof findOwnershipFor>>

/**
 * Starts the ownership lookup (reservations, aliases, domain owners) of every envelope
 * recipient, so it runs during the deny-list query and the parse instead of after them: each
 * D1 round trip here delays the SMTP 250. Envelopes refused later were looked up for nothing,
 * which costs less than waiting. Awaited inside `storeDeliveries`, where a failure is a
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
 * The permanent checks and the parse: throws a permanent `IngestRefusal`, never stores.
 * `denied` is the envelope's deny-list refusal, if any (looked up for the whole batch).
 */
async function prepareDelivery(
  env: IngestBindings,
  raw: Uint8Array,
  envelope: Envelope,
  denied: string | null,
): Promise<PreparedDelivery> {
  if (denied) throw new IngestRefusal(true, 403, denied)
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    throw new IngestRefusal(true, 413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  }
  const recipients = envelopeRecipients(envelope.to, env.ACCEPTED_DOMAINS)
  const parsed = await parseOrRefuse(raw)
  return { raw, envelope, recipients, parsed, extracted: await extract(parsed) }
}

/**
 * Stores deliveries together: the exact raw bytes and the parsed bodies in R2, each
 * attachment once in R2 under its MD5, and one metadata row per recipient inbox in D1, all
 * rows in one D1 batch (one transaction). Resolves only when everything is durable; throws a
 * temporary `IngestRefusal` otherwise, having stored no row.
 */
async function storeDeliveries(
  env: IngestBindings,
  deliveries: PreparedDelivery[],
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
      deliveries.flatMap((delivery) => delivery.parsed.attachments.map((a) => [a.md5, a])),
    )
    stage = 'D1 (attachment blobs)'
    await touchAttachmentBlobs(
      db,
      [...blobs.values()].map((a) => ({ md5: a.md5, size: a.bytes.byteLength })),
      now,
    )

    stage = 'R2'
    const contents = await Promise.all(
      deliveries.map(async ({ parsed }): Promise<MessageContent> => ({
        text: parsed.text,
        html: parsed.html,
        body: await sanitizeHtml(parsed.html),
      })),
    )
    const { bytes, slots } = buildPack(
      deliveries.map((delivery, i) => ({ raw: delivery.raw, content: contents[i] })),
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
    const rows = deliveries.map((delivery, i) =>
      messageRows(delivery, randomString(24), { packKey: pack, ...slots[i] }, aliasOf, now),
    )
    await insertDeliveries(
      db,
      deliveries.map((delivery, i) => ({
        rows: rows[i],
        attachments: delivery.parsed.attachments.map((a, position) => ({
          position,
          md5: a.md5,
          filename: a.filename,
          contentType: a.contentType,
          contentDisposition: a.contentDisposition,
          contentId: a.contentId,
          size: a.bytes.byteLength,
        })),
      })),
    )
    stored = rows.map((deliveryRows) =>
      deliveryRows.map((row) => ({ _id: row.id, inbox: row.inbox })),
    )
  } catch (error) {
    // Nothing references this pack; shared attachment blobs stay (another message may use
    // them) and are reclaimed by the retention sweep when unreferenced.
    await env.MAIL.delete(pack).catch(() => undefined)
    console.error(`ingest failed at ${stage}: ${(error as Error).message}`)
    throw new IngestRefusal(false, 503, `Temporary storage failure (${stage}); try again later.`)
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

/** One D1 row per recipient inbox of a delivery; ids are `<delivery>-0`, `-1`, ... */
function messageRows(
  { parsed, raw, envelope, recipients, extracted }: PreparedDelivery,
  deliveryId: string,
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
  return [...inboxes].map(([inbox, originalInbox], index) => ({
    id: `${deliveryId}-${index}`,
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
 * Stores one delivery. Resolves with the stored message ids only once everything is
 * durable; throws an `IngestRefusal` (permanent or temporary) otherwise, having stored no row.
 */
export async function ingestMessage(
  env: IngestBindings,
  raw: Uint8Array,
  envelope: Envelope,
  now = new Date(),
): Promise<StoredMessage[]> {
  const ownership = lookUpOwnership(env, [envelope])
  const [denied] = await checkDenylist(env, [envelope])
  const delivery = await prepareDelivery(env, raw, envelope, denied)
  const [stored] = await storeDeliveries(env, [delivery], ownership, now)
  return stored
}

export type BatchResult =
  | { messages: StoredMessage[] }
  | { status: IngestRefusal['status']; error: string; message: string }

/**
 * Stores many deliveries in one pass (one D1 transaction, R2 writes in parallel), which is
 * how the SMTP bridge keeps up with bursts. Each delivery is refused on its own for permanent
 * reasons; a storage failure refuses all of them temporarily (none is stored).
 */
export async function ingestBatch(
  env: IngestBindings,
  items: { raw: Uint8Array; envelope: Envelope }[],
  now = new Date(),
): Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(items.length)
  const prepared: { index: number; delivery: PreparedDelivery }[] = []
  const ownership = lookUpOwnership(
    env,
    items.map((item) => item.envelope),
  )
  const denied = await checkDenylist(
    env,
    items.map((item) => item.envelope),
  )
  for (const [index, item] of items.entries()) {
    try {
      prepared.push({
        index,
        delivery: await prepareDelivery(env, item.raw, item.envelope, denied[index]),
      })
    } catch (error) {
      if (!(error instanceof IngestRefusal)) throw error
      results[index] = { status: error.status, error: 'refused', message: error.message }
    }
  }
  if (prepared.length > 0) {
    const stored = await storeDeliveries(
      env,
      prepared.map((entry) => entry.delivery),
      ownership,
      now,
    )
    prepared.forEach((entry, i) => (results[entry.index] = { messages: stored[i] }))
  }
  return results
}
