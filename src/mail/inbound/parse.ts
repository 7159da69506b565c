import PostalMime, { type Address, type Email } from 'postal-mime'
import type { HeaderList, Recipient } from '../../db/schema'
import { MAX_HEADERS_BYTES, MAX_STORED_BODY_CHARS } from '../../limits'
import { sha256Hex, toHex } from '../../lib/bytes'
import { mapConcurrently } from '../../lib/concurrency'
import { digestPart, type EncodedPart } from './attachment-decode'
import { parserInput, type ParserInput } from './body-cap'

export type ParsedAttachment = {
  md5: string
  /** What the stored bytes are checked by: MD5 names an attachment, but collisions are public. */
  sha256: string
  /** Decoded size in bytes. */
  size: number
  /** The decoded bytes; null for a part too large for the parser, decoded from `encoded`. */
  bytes: Uint8Array | null
  encoded: EncodedPart | null
  filename: string | null
  contentType: string
  contentDisposition: string | null
  contentId: string | null
  /** Content-Transfer-Encoding as sent (RFC 2045: 7bit when absent); null when unsure. */
  transferEncoding: string | null
}

export type ParsedMessage = {
  from: Recipient[]
  to: Recipient[]
  cc: Recipient[]
  bcc: Recipient[]
  subject: string
  headers: HeaderList
  text: string
  html: string
  /** Whether `text` or `html` is shorter than the message's (see MAX_STORED_BODY_CHARS). */
  truncated: boolean
  attachments: ParsedAttachment[]
}

/** Flattens postal-mime addresses (groups included) into Mailsac recipient objects. */
function recipients(addresses: Address | Address[] | undefined): Recipient[] {
  if (!addresses) return []
  const list = Array.isArray(addresses) ? addresses : [addresses]
  return list.flatMap((entry) =>
    entry.group
      ? entry.group.map((member) => ({ name: member.name ?? '', address: member.address ?? '' }))
      : [{ name: entry.name ?? '', address: entry.address ?? '' }],
  )
}

async function md5Hex(bytes: Uint8Array): Promise<string> {
  // MD5 is what Mailsac identifies attachments by; workerd's SubtleCrypto provides it.
  return toHex(await crypto.subtle.digest('MD5', bytes))
}

function bytesOf(content: Email['attachments'][number]['content']): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content)
  return content instanceof Uint8Array ? content : new Uint8Array(content)
}

/**
 * The buffer itself when the view covers all of it: postal-mime copies a view into a buffer of
 * its own, which for a 25 MiB message is 25 MB more in a 128 MB isolate. It only reads it.
 */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer | Uint8Array {
  const { buffer } = bytes
  return buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
    ? buffer
    : bytes
}

/** The first MAX_STORED_BODY_CHARS of a body, never half of a surrogate pair. */
function capped(body: string): string {
  if (body.length <= MAX_STORED_BODY_CHARS) return body
  const end = MAX_STORED_BODY_CHARS
  const code = body.charCodeAt(end - 1)
  return body.slice(0, code >= 0xd800 && code <= 0xdbff ? end - 1 : end)
}

/** Markers of set-aside parts are at most this long once decoded (see body-cap.ts). */
const MAX_MARKER_BYTES = 64

/**
 * Which set-aside part each attachment is (by its decoded marker), or null; null overall when
 * some marker is not exactly one attachment (the parser did not read a part as the scan did).
 */
function setAsideOf(email: Email, input: ParserInput) {
  if (input.setAside.length === 0) return email.attachments.map(() => null)
  const byMarker = new Map(input.setAside.map((entry) => [entry.marker, entry]))
  const found = email.attachments.map((attachment) => {
    const bytes = bytesOf(attachment.content)
    if (bytes.byteLength > MAX_MARKER_BYTES) return null
    return byMarker.get(new TextDecoder().decode(bytes).replace(/\n$/, '')) ?? null
  })
  const matched = new Set(found.filter((entry) => entry !== null))
  return matched.size === input.setAside.length && found.filter(Boolean).length === matched.size
    ? found
    : null
}

/** The transfer encoding of each attachment, when the scan lists them as the parser did. */
function transferEncodings(email: Email, input: ParserInput): (string | null)[] {
  const scanned = input.scan.parts.filter((part) => part.role === 'attachment')
  const agrees =
    input.scan.complete &&
    scanned.length === email.attachments.length &&
    scanned.every((part, i) => part.type === email.attachments[i].mimeType)
  return email.attachments.map((_, i) => (agrees ? scanned[i].transferEncoding || '7bit' : null))
}

export type ParseOptions = {
  /** Encoded attachment parts larger than this are decoded outside the parser (tests lower it). */
  attachmentPartBytes?: number
}

/**
 * Parses raw RFC 5322 bytes. The parser gets the bytes themselves, never a decoded string,
 * so 8-bit and non-UTF-8 parts are decoded by their declared charset.
 */
export async function parseMessage(
  raw: Uint8Array,
  options: ParseOptions = {},
): Promise<ParsedMessage> {
  const parse = (input: ParserInput) =>
    PostalMime.parse(wholeBuffer(input.bytes), {
      attachmentEncoding: 'arraybuffer',
      maxHeadersSize: MAX_HEADERS_BYTES,
    })
  let input = parserInput(raw, options.attachmentPartBytes)
  let email = await parse(input)
  let setAside = setAsideOf(email, input)
  if (setAside === null) {
    // The parser read some set-aside part otherwise than the scan: parse the message whole.
    console.warn('set-aside attachment parts not found after the parse; parsing again whole')
    input = parserInput(raw, Number.POSITIVE_INFINITY)
    email = await parse(input)
    setAside = email.attachments.map(() => null)
  }
  const encodings = transferEncodings(email, input)
  // Two at a time: a set-aside part is decoded a window at a time, and a hundred decoded at
  // once would each hold their windows.
  const attachments = await mapConcurrently(
    email.attachments,
    2,
    async (attachment, i): Promise<ParsedAttachment> => {
      const aside = setAside[i]
      const described = {
        filename: attachment.filename,
        contentType: attachment.mimeType || 'application/octet-stream',
        contentDisposition: attachment.disposition,
        contentId: attachment.contentId ?? null,
        transferEncoding: aside?.transferEncoding ?? encodings[i],
      }
      if (aside) {
        const digests = await digestPart(aside.part)
        return { ...digests, bytes: null, encoded: aside.part, ...described }
      }
      const bytes = bytesOf(attachment.content)
      return {
        md5: await md5Hex(bytes),
        sha256: await sha256Hex(bytes),
        size: bytes.byteLength,
        bytes,
        encoded: null,
        ...described,
      }
    },
  )
  return {
    from: recipients(email.from),
    to: recipients(email.to),
    cc: recipients(email.cc),
    bcc: recipients(email.bcc),
    subject: email.subject ?? '',
    headers: email.headers.map((header) => [header.key, header.value]),
    text: capped(email.text ?? ''),
    html: capped(email.html ?? ''),
    truncated:
      input.cut ||
      Math.max(email.text?.length ?? 0, email.html?.length ?? 0) > MAX_STORED_BODY_CHARS,
    attachments,
  }
}
