// `raw` sends of POST /api/outgoing-messages (and the SMTP submission bridge, which posts
// here): the message is delivered as given, parsed only to learn its authors, recipients and
// subject.
import { addressParser } from 'postal-mime'
import { refuse as fail } from '../../lib/status-error'
import { MAX_MESSAGE_BYTES, MAX_OUTGOING_RECIPIENTS } from '../../limits'
import { normalizeAddress } from '../../lib/address'
import { parseMessage } from '../inbound/parse'
import { distinct } from './addresses'
import { newMessageId, rfc5322Date, type OutboundMessage } from './compose'

/** A `raw` send: the whole message, and optionally the SMTP envelope it came with. */
export type RawRequest = {
  raw: string
  rawEncoding?: 'utf8' | 'base64'
  envelope?: { from?: string; to: string[] }
}

const utf8 = new TextEncoder()

/** The header block's end: the first empty line, CRLF or LF. */
function headerEnd(text: string): { end: number; newline: string } {
  const crlf = text.indexOf('\r\n\r\n')
  const lf = text.indexOf('\n\n')
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { end: crlf + 2, newline: '\r\n' }
  if (lf !== -1) return { end: lf + 1, newline: '\n' }
  return { end: text.length, newline: '\r\n' }
}

/** Removes every `name:` field (with its folded lines) from a raw message's header. */
function withoutField(raw: Uint8Array, name: string): Uint8Array {
  // latin1 maps each byte to one character, so the bytes survive the round trip untouched.
  const text = new TextDecoder('latin1').decode(raw)
  const { end } = headerEnd(text)
  const field = new RegExp(`^${name}:`, 'i')
  const kept = text
    .slice(0, end)
    .split(/(?<=\n)(?![ \t])/)
    .filter((line) => !field.test(line))
    .join('')
  return Uint8Array.from(kept + text.slice(end), (char) => char.charCodeAt(0))
}

/** Adds header fields in front of a raw message, with its own line ending. */
function prepend(raw: Uint8Array, fields: string[]): Uint8Array {
  if (fields.length === 0) return raw
  const { newline } = headerEnd(new TextDecoder('latin1').decode(raw.subarray(0, 64 * 1024)))
  const head = utf8.encode(fields.map((field) => field + newline).join(''))
  const bytes = new Uint8Array(head.byteLength + raw.byteLength)
  bytes.set(head)
  bytes.set(raw, head.byteLength)
  return bytes
}

/**
 * Every mailbox of the From and Sender fields, normalised. RFC 5322 3.6 allows one From
 * field and one Sender field: with two, receivers disagree on which is the author (postal-mime
 * reads one, a mail client may show the other), so a second field is refused rather than
 * guessed. Every mailbox is returned so that each one is authorised, not just the first.
 */
function authors(parsed: Awaited<ReturnType<typeof parseMessage>>): string[] {
  const fields = (name: string) => parsed.headers.filter(([key]) => key === name)
  const fromFields = fields('from')
  const senderFields = fields('sender')
  if (fromFields.length > 1) fail(400, 'Invalid raw: the message has more than one From field.')
  if (senderFields.length > 1) {
    fail(400, 'Invalid raw: the message has more than one Sender field.')
  }
  // postal-mime's `from` keeps only the first mailbox of `From: a, b`: read the fields.
  const mailboxes = [...fromFields, ...senderFields].flatMap(([, value]) =>
    addressParser(value).flatMap((entry) => (entry.group ? entry.group : [entry])),
  )
  const addresses = mailboxes.map((entry) => entry.address ?? '')
  if (fromFields.length === 0 || addresses.length === 0 || addresses.some((a) => !a)) {
    fail(400, 'Invalid raw: the message needs a From header with an address.')
  }
  return distinct(
    addresses.map((address) => {
      const normalized = normalizeAddress(address)
      if (!normalized) fail(400, `Invalid raw: not an address in From or Sender: ${address}`)
      return normalized
    }),
  )
}

/**
 * A `raw` send: the message is delivered as given. Its From header is the sender; the
 * recipients are the envelope's when the SMTP bridge passes one (RCPT TO is what SMTP
 * means), else the To, Cc and Bcc headers. Like a submission server (RFC 6409 8.2, 8.3) it
 * adds Message-ID and Date when the message has none, and it drops the Bcc field.
 */
export async function prepareRawMessage(request: RawRequest, now = new Date()) {
  let bytes: Uint8Array
  if (request.rawEncoding === 'base64') {
    const compact = request.raw.replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) fail(400, 'Invalid raw: not valid base64.')
    bytes = Uint8Array.from(atob(compact), (char) => char.charCodeAt(0))
  } else {
    bytes = utf8.encode(request.raw)
  }
  if (bytes.byteLength > MAX_MESSAGE_BYTES) {
    fail(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  }
  let parsed: Awaited<ReturnType<typeof parseMessage>>
  try {
    parsed = await parseMessage(bytes)
  } catch (error) {
    fail(400, `Invalid raw: the message could not be parsed (${(error as Error).message}).`)
  }
  const senders = authors(parsed)
  const headerFrom = senders[0]

  const given =
    request.envelope?.to ??
    [...parsed.to, ...parsed.cc, ...parsed.bcc].map((recipient) => recipient.address)
  if (given.length === 0) fail(400, 'Invalid raw: the message has no recipient.')
  if (given.length > MAX_OUTGOING_RECIPIENTS) {
    fail(400, 'The to field exceeds the maximum allowed size')
  }
  const recipients = given.map((address) => {
    const normalized = normalizeAddress(address)
    if (!normalized) fail(400, `Invalid recipient address: ${address}`)
    return normalized
  })
  let envelopeFrom = headerFrom
  if (request.envelope?.from) {
    const normalized = normalizeAddress(request.envelope.from)
    if (!normalized) fail(400, `Invalid envelope from: ${request.envelope.from}`)
    envelopeFrom = normalized
  }

  const hasHeader = (name: string) => parsed.headers.some(([key]) => key === name)
  const added: string[] = []
  let messageId = parsed.headers.find(([key]) => key === 'message-id')?.[1]?.trim() ?? ''
  if (!messageId) {
    messageId = newMessageId(headerFrom)
    added.push(`Message-ID: ${messageId}`)
  }
  if (!hasHeader('date')) added.push(`Date: ${rfc5322Date(now)}`)
  // Blind copies stay blind: the Bcc field is removed before delivery (RFC 5322 3.6.3), so no
  // recipient, To, Cc or Bcc, sees who else was copied.
  const withoutBcc = hasHeader('bcc') ? withoutField(bytes, 'bcc') : bytes
  const raw = prepend(withoutBcc, added)
  return {
    from: headerFrom,
    senders,
    envelopeFrom,
    recipients: distinct(recipients),
    subject: parsed.subject,
    messageId,
    raw,
    relayRaw: withoutField(raw, 'received'),
  } satisfies OutboundMessage
}
