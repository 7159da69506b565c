// Builds the RFC 5322 bytes of a composed POST /api/outgoing-messages with mimetext
// (multipart/alternative, /related for cid images, /mixed for attachments). Address fields
// are parsed in addresses.ts, `raw` messages handled in raw.ts.
import { createMimeMessage } from 'mimetext/browser'
import { refuse as fail } from '../../lib/status-error'
import { MAX_MESSAGE_BYTES, MAX_OUTGOING_SUBJECT_BYTES } from '../../limits'
import { domainOf } from '../../lib/address'
import { randomString } from '../../lib/random'
import {
  distinct,
  fromMailbox,
  refuseLineBreaks,
  toMailboxes,
  type AddressInput,
} from './addresses'

export type { AddressInput } from './addresses'

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

/** A message ready to deliver. */
export type OutboundMessage = {
  /** The From header address (the first, for a raw message naming several). */
  from: string
  /**
   * Every author mailbox the message names (each From and Sender address): all must be at
   * domains the account may send from, or a second From would go out unchecked.
   */
  senders: string[]
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

const CRLF = '\r\n'
const utf8 = new TextEncoder()

function byteLength(value: string): number {
  return utf8.encode(value).byteLength
}

/** RFC 5322 date-time, e.g. `Tue, 24 Nov 2026 10:00:00 +0000`. */
export function rfc5322Date(now: Date): string {
  return now.toUTCString().replace(/GMT$/, '+0000')
}

export function newMessageId(fromAddress: string): string {
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
    senders: [from.address],
    envelopeFrom: from.address,
    recipients: distinct(to.map((recipient) => recipient.address)),
    subject,
    messageId,
    raw,
    relayRaw: utf8.encode(composed),
  }
}
