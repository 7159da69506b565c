// Builds the RFC 5322 bytes of POST /api/outgoing-messages. Composed messages go through
// mimetext (multipart/alternative, /related for cid images, /mixed for attachments); `raw`
// messages are delivered as given, parsed only to learn sender, recipients and subject.
import { createMimeMessage } from 'mimetext/browser'
import { fail } from '../../http/errors'
import {
  MAX_MESSAGE_BYTES,
  MAX_OUTGOING_NAME_BYTES,
  MAX_OUTGOING_RECIPIENTS,
  MAX_OUTGOING_SUBJECT_BYTES,
} from '../../limits'
import { domainOf, normalizeAddress } from '../../lib/address'
import { parseMessage } from '../inbound/parse'
import { randomString } from '../../lib/random'

/** One address as the API accepts it: a string (`a@x`, `Name <a@x>`) or `{address, name}`. */
export type AddressInput = string | { address: string; name?: string | null }

export type AttachmentEncoding = 'base64' | 'utf8' | 'utf-8' | 'ascii' | 'latin1' | 'binary' | 'hex'

export type AttachmentInput = {
  filename?: string
  content: string
  encoding?: AttachmentEncoding
  contentType?: string
  contentDisposition?: string
  cid?: string
}

/** The composing fields of POST /api/outgoing-messages (everything but `raw`). */
export type ComposeRequest = {
  to: string | AddressInput[]
  from: AddressInput | AddressInput[]
  subject?: string
  text?: string
  html?: string
  attachments?: AttachmentInput[]
  received?: string | string[]
}

/** A `raw` send: the whole message, and optionally the SMTP envelope it came with. */
export type RawRequest = {
  raw: string
  rawEncoding?: 'utf8' | 'base64'
  envelope?: { from?: string; to: string[] }
}

/** A message ready to deliver. */
export type OutboundMessage = {
  /** The From header address: must be at a domain the account may send from. */
  from: string
  /** MAIL FROM; the From address unless an SMTP envelope said otherwise. */
  envelopeFrom: string
  /** Distinct, normalised; one credit each. */
  recipients: string[]
  subject: string
  messageId: string
  /** What our own inboxes store. */
  raw: Uint8Array
  /**
   * What goes to the send_email binding: Cloudflare refuses messages that carry Received:
   * headers (so does wrangler's simulation), so the relayed copy goes without them.
   */
  relayRaw: Uint8Array
}

type Mailbox = { address: string; name: string }

const CRLF = '\r\n'
const utf8 = new TextEncoder()

// A CR or LF in a header value would end the header and start one the caller chose
// (header injection: an extra Bcc, a forged Content-Type). NUL is refused for the same reason.
function refuseLineBreaks(field: string, value: string) {
  if (/[\r\n\0]/.test(value)) {
    fail(400, `Invalid ${field}: must not contain CR, LF or NUL (header injection).`)
  }
}

function byteLength(value: string): number {
  return utf8.encode(value).byteLength
}

/** Splits `a@x, "Doe, J" <b@y>` on the commas that separate addresses. */
function splitAddressList(list: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  let angle = false
  for (const char of list) {
    if (char === '"' && !angle) quoted = !quoted
    else if (char === '<' && !quoted) angle = true
    else if (char === '>' && !quoted) angle = false
    if (char === ',' && !quoted && !angle) {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts.map((part) => part.trim()).filter(Boolean)
}

function mailbox(field: string, input: AddressInput): Mailbox {
  let address: string
  let name: string
  if (typeof input === 'string') {
    refuseLineBreaks(field, input)
    const match = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^<>]*)>\s*$/.exec(input)
    address = match ? match[3] : input
    name = match ? (match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? '') : ''
  } else {
    address = input.address
    name = input.name ?? ''
  }
  refuseLineBreaks(`${field} address`, address)
  refuseLineBreaks(`${field} name`, name)
  if (byteLength(name) > MAX_OUTGOING_NAME_BYTES) {
    fail(400, `Invalid ${field} name: at most ${MAX_OUTGOING_NAME_BYTES} bytes.`)
  }
  const normalized = normalizeAddress(address)
  if (!normalized) fail(400, `Invalid ${field} address: ${address}`)
  return { address: normalized, name: name.trim() }
}

function toMailboxes(input: string | AddressInput[]): Mailbox[] {
  const entries = typeof input === 'string' ? splitAddressList(input) : input
  if (entries.length === 0) fail(400, 'Invalid to: at least one recipient is required.')
  // Mailsac's TooManyRecipientsResponse, counted as given (before duplicates are merged).
  if (entries.length > MAX_OUTGOING_RECIPIENTS) {
    fail(400, 'The to field exceeds the maximum allowed size')
  }
  return entries.map((entry) => mailbox('to', entry))
}

function fromMailbox(input: AddressInput | AddressInput[]): Mailbox {
  const entries = Array.isArray(input) ? input : [input]
  if (entries.length !== 1) fail(400, 'Invalid from: exactly one sender address is required.')
  return mailbox('from', entries[0])
}

function distinct(addresses: string[]): string[] {
  return [...new Set(addresses)]
}

/** RFC 5322 date-time, e.g. `Tue, 24 Nov 2026 10:00:00 +0000`. */
function rfc5322Date(now: Date): string {
  return now.toUTCString().replace(/GMT$/, '+0000')
}

function newMessageId(fromAddress: string): string {
  return `<${randomString(24)}@${domainOf(fromAddress)}>`
}

function base64(bytes: Uint8Array): string {
  // btoa takes a binary string; building it in chunks keeps the argument list bounded.
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** Base64 in 76-character lines (RFC 2045 6.8): mimetext writes the data as given. */
function base64Lines(bytes: Uint8Array): string {
  return (base64(bytes).match(/.{1,76}/g) ?? []).join(CRLF)
}

/** RFC 2047 encoded-word for non-ASCII header text, which 7-bit headers cannot carry. */
function encodedWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?utf-8?B?${base64(utf8.encode(text))}?=`
}

/** 7bit when the text is ASCII in short lines (readable raw), base64 otherwise. */
function bodyPart(text: string): { data: string; encoding: '7bit' | 'base64' } {
  const crlfText = text.replace(/\r\n|\r|\n/g, CRLF)
  const sevenBit =
    /^[\x01-\x7f]*$/.test(crlfText) && crlfText.split(CRLF).every((line) => line.length <= 998)
  return sevenBit
    ? { data: crlfText, encoding: '7bit' }
    : { data: base64Lines(utf8.encode(text)), encoding: 'base64' }
}

function decodeContent(attachment: AttachmentInput, field: string): Uint8Array {
  const { content } = attachment
  switch (attachment.encoding ?? 'utf8') {
    case 'base64': {
      const compact = content.replace(/\s+/g, '')
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
        fail(400, `Invalid ${field}.content: not valid base64.`)
      }
      const padded = compact.replace(/=+$/, '').padEnd(Math.ceil(compact.length / 4) * 4, '=')
      return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0))
    }
    case 'hex':
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(content)) fail(400, `Invalid ${field}.content: not hex.`)
      return Uint8Array.from(content.match(/../g) ?? [], (pair) => parseInt(pair, 16))
    case 'ascii':
      return Uint8Array.from(content, (char) => char.charCodeAt(0) & 0x7f)
    case 'latin1':
    case 'binary':
      return Uint8Array.from(content, (char) => char.charCodeAt(0) & 0xff)
    default:
      return utf8.encode(content)
  }
}

const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  txt: 'text/plain',
  html: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
  zip: 'application/zip',
}

function guessContentType(filename: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase() ?? ''
  return CONTENT_TYPES[extension] ?? 'application/octet-stream'
}

/** The attachment's filename: its own, else the one in `contentDisposition`, else a made-up one. */
function attachmentFilename(attachment: AttachmentInput, index: number): string {
  const fromDisposition = /filename\s*=\s*"?([^";]+)"?/i.exec(attachment.contentDisposition ?? '')
  return attachment.filename ?? fromDisposition?.[1]?.trim() ?? `attachment-${index + 1}`
}

function addAttachments(
  message: ReturnType<typeof createMimeMessage>,
  attachments: AttachmentInput[],
) {
  attachments.forEach((attachment, index) => {
    const field = `attachments.${index}`
    for (const key of ['filename', 'contentType', 'contentDisposition', 'cid'] as const) {
      const value = attachment[key]
      if (value !== undefined) refuseLineBreaks(`${field}.${key}`, value)
    }
    const filename = attachmentFilename(attachment, index)
    // mimetext quotes the name without escaping it: a quote or backslash would end the value.
    if (/["\\\x00-\x1f\x7f]/.test(filename)) {
      fail(400, `Invalid ${field}.filename: no quotes, backslashes or control characters.`)
    }
    // It goes into the Content-Type and Content-Disposition lines, which must stay under 998.
    const encodedFilename = encodedWord(filename)
    if (encodedFilename.length > 400) fail(400, `Invalid ${field}.filename: too long.`)
    const contentType = attachment.contentType ?? guessContentType(filename)
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(contentType)) {
      fail(400, `Invalid ${field}.contentType: a MIME type like image/png, without parameters.`)
    }
    const cid = attachment.cid?.trim().replace(/^<|>$/g, '')
    if (cid !== undefined && !/^[^\s<>"]+$/.test(cid)) {
      fail(400, `Invalid ${field}.cid: no spaces, quotes or angle brackets.`)
    }
    const disposition = attachment.contentDisposition?.trim().toLowerCase()
    const inline = disposition ? disposition.startsWith('inline') : cid !== undefined
    message.addAttachment({
      filename: encodedFilename,
      contentType,
      data: base64Lines(decodeContent(attachment, field)),
      encoding: 'base64',
      inline,
      headers: cid ? { 'Content-ID': `<${cid}>` } : {},
    })
  })
}

/** `received` as header fields, in the order given; folded lines (CRLF + space) are allowed. */
function receivedFields(received: string | string[] | undefined): string {
  const values = received === undefined ? [] : [received].flat()
  return values
    .map((value, index) => {
      const folded = value.replace(/\r?\n(?=[ \t])/g, CRLF)
      // Only folding may break a line: any other CR or LF would start a new header field.
      if (/[\r\n\0]/.test(folded.replace(/\r\n[ \t]/g, ' '))) {
        fail(400, `Invalid received.${index}: a line break must be followed by a space or tab.`)
      }
      const line = `Received: ${folded.trim()}`
      if (line.split(CRLF).some((part) => part.length > 998)) {
        fail(400, `Invalid received.${index}: lines are limited to 998 characters.`)
      }
      return line + CRLF
    })
    .join('')
}

/**
 * Builds a composed message with mimetext: multipart/alternative for text plus HTML,
 * multipart/related for inline (cid) images, multipart/mixed for attachments; with its own
 * Message-ID, Date and MIME-Version. Throws a 400 for any invalid field.
 */
export function composeMessage(request: ComposeRequest, now = new Date()): OutboundMessage {
  const from = fromMailbox(request.from)
  const to = toMailboxes(request.to)
  const subject = request.subject ?? ''
  refuseLineBreaks('subject', subject)
  if (byteLength(subject) > MAX_OUTGOING_SUBJECT_BYTES) {
    fail(400, `Invalid subject: at most ${MAX_OUTGOING_SUBJECT_BYTES} bytes.`)
  }
  if (!request.text && !request.html) fail(400, 'Either text or html is required.')
  const received = receivedFields(request.received)

  const message = createMimeMessage()
  const messageId = newMessageId(from.address)
  message.setSender({ addr: from.address, name: from.name })
  message.setTo(to.map((recipient) => ({ addr: recipient.address, name: recipient.name })))
  message.setSubject(subject)
  message.setHeader('Date', rfc5322Date(now))
  message.setHeader('Message-ID', messageId)
  if (request.text) message.addMessage({ contentType: 'text/plain', ...bodyPart(request.text) })
  if (request.html) message.addMessage({ contentType: 'text/html', ...bodyPart(request.html) })
  addAttachments(message, request.attachments ?? [])

  const composed = message.asRaw() + CRLF
  const raw = utf8.encode(received + composed)
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    fail(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  }
  return {
    from: from.address,
    envelopeFrom: from.address,
    recipients: distinct(to.map((recipient) => recipient.address)),
    subject,
    messageId,
    raw,
    relayRaw: utf8.encode(composed),
  }
}

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
  const headerFrom = parsed.from[0]?.address ? normalizeAddress(parsed.from[0].address) : null
  if (!headerFrom) fail(400, 'Invalid raw: the message needs a From header with an address.')

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
    envelopeFrom,
    recipients: distinct(recipients),
    subject: parsed.subject,
    messageId,
    raw,
    relayRaw: withoutField(raw, 'received'),
  } satisfies OutboundMessage
}
