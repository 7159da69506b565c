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

/** Splits raw mail into its header fields (folded lines kept) and the untouched body bytes. */
function splitMessage(raw: Uint8Array): { fields: Field[]; newline: string; body: Uint8Array } {
  // latin1 maps each byte to one character, so slicing by character index is slicing bytes.
  const text = new TextDecoder('latin1').decode(raw)
  const crlf = text.indexOf('\r\n\r\n')
  const lf = text.indexOf('\n\n')
  const crlfFirst = crlf !== -1 && (lf === -1 || crlf < lf)
  const end = crlfFirst ? crlf : lf
  const newline = crlfFirst || lf === -1 ? '\r\n' : '\n'
  const head = end === -1 ? text : text.slice(0, end)
  const bodyStart = end === -1 ? raw.byteLength : end + newline.length * 2
  const fields: Field[] = []
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].text += newline + line
    } else if (line.includes(':')) {
      fields.push({ name: line.slice(0, line.indexOf(':')).trim().toLowerCase(), text: line })
    }
  }
  return { fields, newline, body: raw.subarray(bodyStart) }
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

/**
 * The bytes of the forward of `raw`, sent from `inbox`. `messageId` becomes the new
 * Message-ID: stable per delivery, so a retried forward that did go out the first time can
 * be recognised as a duplicate by the receiving side.
 */
export function forwardedMessage(
  raw: Uint8Array,
  options: { inbox: string; originalFrom: string; messageId: string; deliveryId: string },
): Uint8Array {
  const { fields, newline, body } = splitMessage(raw)
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
  const head = [...added, ...kept].join(newline) + newline + newline
  const headBytes = Uint8Array.from(head, (char) => char.charCodeAt(0) & 0xff)
  const out = new Uint8Array(headBytes.byteLength + body.byteLength)
  out.set(headBytes)
  out.set(body, headBytes.byteLength)
  return out
}
