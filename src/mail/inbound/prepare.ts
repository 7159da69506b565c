// The checks an arrival passes before anything is stored: envelope, size, deny-list, parse,
// attachment blobs. Each throws a permanent `Refusal`, or a temporary one when storage failed.
import { database } from '../../db/client'
import { findOwnershipFor } from '../../db/queries/addresses'
import { normalizeAddress } from '../../lib/address'
import {
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_MESSAGE_BYTES,
  MAX_RECIPIENTS_PER_MESSAGE,
} from '../../limits'
import { receivesFor } from '../accepted-domains'
import { receivingHop } from '../received-hop'
import { Refusal } from '../refusal'
import type { Envelope, IngestBindings } from './arrival'
import { findActionLink, findCodes } from './codes'
import { denylistRefusals } from './denylist'
import { messageLinks, readHtml } from './links'
import { searchText } from './search-text'
import { parseMessage, type ParsedMessage } from './parse'
import { checkAttachmentBlobs } from './storage'

/** Validates and de-duplicates the envelope recipients. */
function envelopeRecipients(to: string[], setting: string | undefined): string[] {
  if (to.length === 0) throw new Refusal(400, 'The envelope has no recipient.')
  const recipients = new Set<string>()
  for (const input of to) {
    const address = normalizeAddress(input)
    if (!address) throw new Refusal(400, `Invalid recipient address: ${input}`)
    if (!receivesFor(address, setting)) {
      throw new Refusal(403, `This service does not accept mail for ${address}.`)
    }
    recipients.add(address)
  }
  if (recipients.size > MAX_RECIPIENTS_PER_MESSAGE) {
    throw new Refusal(400, `At most ${MAX_RECIPIENTS_PER_MESSAGE} recipients per message.`)
  }
  return [...recipients]
}

/**
 * Starts parsing an arrival before its checks, so the parse's CPU runs while the ingest's D1
 * lookups are out instead of after them (#18): most arrivals pass. Null when it is too large
 * to be parsed at all. A failure surfaces where `prepareArrival` awaits it.
 */
export function startParse(raw: Uint8Array): Promise<ParsedMessage> | null {
  if (raw.byteLength > MAX_MESSAGE_BYTES) return null
  const parsing = parseMessage(raw)
  parsing.catch(() => undefined)
  return parsing
}

async function parseOrRefuse(
  raw: Uint8Array,
  parsing: Promise<ParsedMessage> | null,
): Promise<ParsedMessage> {
  try {
    return await (parsing ?? parseMessage(raw))
  } catch (error) {
    throw new Refusal(400, `The message could not be parsed: ${(error as Error).message}`)
  }
}

/** An arrival that passed the permanent checks and was parsed, ready to be stored. */
export type PreparedArrival = {
  key: string | null
  /** MD5s of its attachments that R2 does not hold yet. */
  missingBlobs: Set<string>
  /** Whether a concurrent attempt may hold the key (see `Envelope.maybeStored`). */
  maybeStored: boolean
  raw: Uint8Array
  envelope: Envelope
  recipients: string[]
  parsed: ParsedMessage
  extracted: Extracted
}

/** The links, codes, action link and search text of a message: found once, stored on every row. */
export type Extracted = {
  links: string[]
  codes: string[]
  actionLink: string | null
  searchText: string
  via: string | null
  rtls: boolean | null
}

async function extract(parsed: ParsedMessage): Promise<Extracted> {
  const html = await readHtml(parsed.html)
  const links = messageLinks(parsed.text, html)
  return {
    links,
    codes: findCodes(`${parsed.subject}\n${parsed.text}`, html.text),
    actionLink: findActionLink(links, html.anchors),
    searchText: searchText(parsed, html.text),
    ...receivingHop(parsed.headers),
  }
}

/**
 * The deny-list verdict of each envelope (see `denylistRefusals`), checked once per ingest
 * call before anything is parsed. A D1 failure here is temporary, like any storage failure.
 */
export async function checkDenylist(env: IngestBindings, envelopes: Envelope[]) {
  try {
    return await denylistRefusals(database(env.DB), envelopes)
  } catch (error) {
    console.error(`ingest failed at D1 (deny-list): ${(error as Error).message}`)
    throw new Refusal(503, 'Temporary storage failure (deny-list); try again later.')
  }
}

export type Ownership = Awaited<ReturnType<typeof findOwnershipFor>>

/**
 * Starts the ownership lookup (reservations, aliases, domain owners) of every envelope
 * recipient, so it runs during the deny-list query and the parse instead of after them: each
 * D1 round trip here delays the SMTP 250. Envelopes refused later were looked up for nothing,
 * which costs less than waiting. Awaited inside `storeArrivals`, where a failure is a
 * temporary refusal like any other storage failure.
 */
export function lookUpOwnership(env: IngestBindings, envelopes: Envelope[]): Promise<Ownership> {
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

/** An arrival with more attachments than its ingest call has room for (temporary). */
export class BatchFull extends Refusal {
  constructor(readonly room: number) {
    super(503, 'This batch has no room for the attachments of this message; send it in another.')
  }
}

/**
 * The permanent checks and the parse: throws a permanent `Refusal`, never stores.
 * `denied` is the envelope's deny-list refusal, if any (looked up for the whole batch);
 * `BatchFull` when it has more than `attachmentRoom` attachments, before any R2 check.
 */
export async function prepareArrival(
  env: IngestBindings,
  key: string | null,
  raw: Uint8Array,
  envelope: Envelope,
  denied: string | null,
  attachmentRoom = Number.POSITIVE_INFINITY,
  parsing: Promise<ParsedMessage> | null = null,
): Promise<PreparedArrival> {
  if (denied) throw new Refusal(403, denied)
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    throw new Refusal(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  }
  const recipients = envelopeRecipients(envelope.to, env.ACCEPTED_DOMAINS)
  const parsed = await parseOrRefuse(raw, parsing)
  if (parsed.attachments.length > MAX_ATTACHMENTS_PER_MESSAGE) {
    throw new Refusal(
      413,
      `Message has ${parsed.attachments.length} attachments; at most ${MAX_ATTACHMENTS_PER_MESSAGE} are accepted.`,
    )
  }
  if (parsed.attachments.length > attachmentRoom) throw new BatchFull(attachmentRoom)
  const missingBlobs = await checkBlobs(env, parsed)
  return {
    key,
    missingBlobs,
    maybeStored: envelope.maybeStored === true,
    raw,
    envelope,
    recipients,
    parsed,
    extracted: await extract(parsed),
  }
}

/**
 * The attachment blobs of a message that R2 lacks; refuses the message (permanently) when one
 * of its attachments has the MD5 of a stored blob with other bytes: a crafted collision must
 * not change what existing messages return, nor pass as theirs.
 */
async function checkBlobs(env: IngestBindings, parsed: ParsedMessage): Promise<Set<string>> {
  if (parsed.attachments.length === 0) return new Set()
  let checked: Awaited<ReturnType<typeof checkAttachmentBlobs>>
  try {
    checked = await checkAttachmentBlobs(env.MAIL, parsed.attachments)
  } catch (error) {
    console.error(`ingest failed at R2 (attachment check): ${(error as Error).message}`)
    throw new Refusal(503, 'Temporary storage failure (R2); try again later.')
  }
  const [collided] = checked.collisions
  if (collided) throw collision(collided)
  return checked.missing
}

export const collision = (md5: string) =>
  new Refusal(
    400,
    `An attachment has the MD5 ${md5} of a stored attachment with other bytes (an MD5 collision): refused.`,
  )

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
