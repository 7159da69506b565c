// Forwarding re-sends a stored message through the `send_email` binding. Cloudflare only
// sends mail whose From: header is the envelope sender, an address on a domain this Worker
// receives for, and refuses messages that still carry Received: headers (wrangler's local
// simulation applies the same rules). So the original cannot go out byte for byte: like a
// mailing list, the forward keeps the original body and MIME structure, puts the private
// address in From: (with the original sender in the display name and in Reply-To:, so a
// reply reaches the sender), drops the transport and signature headers that would no longer
// be true, and marks the message as forwarded with X-Mailsac-Forwarded-For.

/** Headers dropped from a forward: trace and authentication results of the first hop. */
const DROPPED = new Set([
  'from',
  'sender',
  'message-id',
  'received',
  'return-path',
  'delivered-to',
  'x-original-to',
  'dkim-signature',
  'domainkey-signature',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
  'authentication-results',
  'received-spf',
  'bcc',
  'x-mailsac-forwarded-for',
  'x-mailsac-delivery-id',
])

type Field = { name: string; text: string }

/**
 * Where the header section of raw mail ends: `end` is the index of the blank line's first
 * newline, `bodyStart` the first byte after it. Null when `bytes` holds no blank line. Scans
 * bytes, so the body is never decoded (a forward of 25 MiB decodes only its header).
 */
export function headerSection(
  bytes: Uint8Array,
): { end: number; bodyStart: number; newline: string } | null {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x0a)
      return { end: i, bodyStart: i + 2, newline: '\n' }
    if (
      bytes[i] === 0x0d &&
      bytes[i + 1] === 0x0a &&
      bytes[i + 2] === 0x0d &&
      bytes[i + 3] === 0x0a
    ) {
      return { end: i, bodyStart: i + 4, newline: '\r\n' }
    }
  }
  return null
}

/** The header fields (folded lines kept) of a header section, given as bytes. */
function headerFields(head: Uint8Array, newline: string): Field[] {
  // latin1 maps each byte to one character, so the fields keep their bytes exactly.
  const text = new TextDecoder('latin1').decode(head)
  const fields: Field[] = []
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].text += newline + line
    } else if (line.includes(':')) {
      fields.push({ name: line.slice(0, line.indexOf(':')).trim().toLowerCase(), text: line })
    }
  }
  return fields
}

function headerValue(fields: Field[], name: string): string | null {
  const field = fields.find((f) => f.name === name)
  return field
    ? field.text
        .slice(field.text.indexOf(':') + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim()
    : null
}

/** A quoted-string display name: printable ASCII without quotes or backslashes. */
function displayName(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, '').slice(0, 120)
}

type ForwardOptions = { inbox: string; originalFrom: string; messageId: string; deliveryId: string }

/**
 * The header section of the forward (with its blank line), from the original's header section
 * `head` (without it). The body follows unchanged. `messageId` becomes the new Message-ID:
 * stable per delivery, so a retried forward that did go out the first time can be recognised
 * as a duplicate by the receiving side.
 */
export function forwardedHead(
  head: Uint8Array,
  newline: string,
  options: ForwardOptions,
): Uint8Array {
  const fields = headerFields(head, newline)
  const added = [
    `From: "${displayName(`${options.originalFrom} via ${options.inbox}`)}" <${options.inbox}>`,
    `Message-ID: <${options.messageId}>`,
    `X-Mailsac-Forwarded-For: ${options.inbox}`,
    `X-Mailsac-Delivery-Id: ${options.deliveryId}`,
  ]
  const originalId = headerValue(fields, 'message-id')
  if (originalId) added.push(`X-Original-Message-ID: ${originalId}`)
  const originalFrom = headerValue(fields, 'from')
  const hasReplyTo = fields.some((field) => field.name === 'reply-to')
  if (originalFrom && !hasReplyTo) added.push(`Reply-To: ${originalFrom}`)
  const kept = fields.filter((field) => !DROPPED.has(field.name)).map((field) => field.text)
  const text = [...added, ...kept].join(newline) + newline + newline
  return Uint8Array.from(text, (char) => char.charCodeAt(0) & 0xff)
}

/** The whole forward of `raw`, in one buffer (the queue consumer streams it instead). */
export function forwardedMessage(raw: Uint8Array, options: ForwardOptions): Uint8Array {
  const section = headerSection(raw)
  const head = section ? raw.subarray(0, section.end) : raw
  const body = section ? raw.subarray(section.bodyStart) : new Uint8Array(0)
  const headBytes = forwardedHead(head, section?.newline ?? '\r\n', options)
  const out = new Uint8Array(headBytes.byteLength + body.byteLength)
  out.set(headBytes)
  out.set(body, headBytes.byteLength)
  return out
}
