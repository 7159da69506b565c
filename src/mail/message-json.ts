import { z } from 'zod'
import type { MessageRow, MessageWithHeaders } from '../db/queries/messages'
import type { HeaderList } from '../db/schema'
import { MAX_INLINE_RAW_BYTES, MAX_STORED_BODY_CHARS } from '../limits'
import { readContent, readRaw } from './inbound/storage'

// The message wire object of REST responses, websocket frames and webhook payloads: each
// builder beside the zod schema that documents it (OpenAPI components `Recipient`, `Message`,
// `HeadersObject`, `FullMessage`), so a field added to one is seen missing from the other.
// The schemas only document: test/http/openapi/ checks real responses against them.

/** The example message; the document's other examples reuse its id, inbox and date. */
export const messageExample = {
  _id: 'Wq3TNmR8bLx9bKxT2zQhZp4pXa',
  inbox: 'someone@example.com',
  originalInbox: 'someone@example.com',
  domain: 'example.com',
  from: [{ name: 'Sender', address: 'sender@example.org' }],
  to: [{ name: '', address: 'someone@example.com' }],
  cc: [],
  bcc: [],
  subject: 'Hello',
  received: '2026-11-24T10:00:00.000Z',
  size: 1843,
  crlfSize: 1843,
  attachments: null,
  savedBy: null,
  labels: [],
  folder: 'inbox',
  read: false,
  ip: '192.0.2.10',
  links: ['https://example.org/verify?token=abc123'],
  via: 'mx.mail.example',
  rtls: true,
  spam: null,
}

export const Recipient = z.object({ name: z.string(), address: z.string() }).meta({
  id: 'Recipient',
  description: 'A sender or recipient; `name` may be an empty string.',
  example: { name: 'Sender', address: 'sender@example.org' },
})

/** `messageJson()`. */
export const Message = z
  .object({
    _id: z.string().meta({ description: 'The message id' }),
    inbox: z.string().meta({ description: 'The inbox the message is in' }),
    originalInbox: z
      .string()
      .meta({ description: 'The address it was sent to (the encryptedInbox alias, if so)' }),
    domain: z.string().meta({ description: 'The domain of the inbox' }),
    from: z.array(Recipient),
    to: z.array(Recipient),
    cc: z.array(Recipient),
    bcc: z.array(Recipient),
    subject: z.string(),
    received: z.string().meta({
      format: 'date-time',
      description: 'When the message was received',
      example: messageExample.received,
    }),
    size: z.number().int().meta({ description: 'Bytes of the raw message' }),
    crlfSize: z.number().int().nullable().meta({
      description:
        'This service: the octets with every bare LF counted as CRLF, as POP3 sends the message (null for mail stored before it was recorded)',
    }),
    attachments: z
      .array(z.string())
      .nullable()
      .meta({ description: 'MD5 sums of the attachments, or null when there are none' }),
    savedBy: z
      .string()
      .nullable()
      .meta({ description: 'The account that starred the message, or null' }),
    labels: z.array(z.string()),
    folder: z.enum(['inbox', 'all', 'spam', 'trash']),
    read: z.boolean(),
    ip: z.string().nullable().meta({ description: 'The client that delivered it over SMTP' }),
    links: z.array(z.string()).meta({
      description: 'Web links of the text and HTML bodies, de-duplicated, in order (at most 100)',
    }),
    via: z.string().nullable().meta({
      description:
        'The host that received it over SMTP (`by` of the topmost Received header: the bridge or Email Routing), or null',
    }),
    rtls: z.boolean().nullable().meta({
      description:
        'That hop was under TLS (its Received header says ESMTPS or "using TLS"); null when no header tells',
    }),
    spam: z.number().nullable().meta({
      description: 'Always null: this service runs no spam filter, so there is no score',
    }),
  })
  .meta({
    id: 'Message',
    description: 'The message metadata of list, star and search responses.',
    example: messageExample,
  })

/** The abbreviated message object of list, star and metadata responses. */
export function messageJson(row: MessageRow) {
  return {
    _id: row.id,
    inbox: row.inbox,
    originalInbox: row.originalInbox,
    domain: row.domain,
    from: row.from,
    to: row.to,
    cc: row.cc,
    bcc: row.bcc,
    subject: row.subject,
    received: row.received.toISOString(),
    size: row.size,
    crlfSize: row.crlfSize,
    attachments: row.attachments.length > 0 ? row.attachments : null,
    savedBy: row.savedBy,
    labels: row.labels,
    folder: row.folder,
    read: row.read,
    ip: row.ip,
    links: row.links,
    via: row.via,
    rtls: row.rtls,
    spam: null,
  }
}

/** `headersObject()`: one key per header name, repeated headers as an array. */
export const HeadersObject = z.record(z.string(), z.union([z.string(), z.array(z.string())])).meta({
  id: 'HeadersObject',
  description: 'Headers by lower-cased name; a repeated header is an array of its values.',
  example: { from: 'Sender <sender@example.org>', subject: 'Hello', received: ['a', 'b'] },
})

/** Mailsac's headers object: lower-cased names; a repeated header becomes an array. */
export function headersObject(headers: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of headers) {
    const existing = out[name]
    if (existing === undefined) out[name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else out[name] = [existing, value]
  }
  return out
}

/** `fullMessageJson()` (also the websocket and webhook payload). */
export const FullMessage = Message.extend({
  headers: HeadersObject,
  text: z.string().meta({ description: 'The text body' }),
  html: z.string().meta({ description: 'The HTML body as sent' }),
  body: z.string().meta({ description: 'The sanitized HTML body' }),
  // One flag for the three bodies: each is cut at the same character count, and the parser
  // renders one body from the other when a message has only one.
  truncated: z.boolean().meta({
    description: `Whether text, html and body were cut: only the first ${MAX_STORED_BODY_CHARS} characters of each are kept. GET /api/raw still has every byte.`,
  }),
  raw: z.string().nullable().meta({
    description: 'A UTF-8 reading of the raw message; null for large messages (GET /api/raw)',
  }),
}).meta({
  id: 'FullMessage',
  description: 'A message with its headers, bodies and raw source.',
  example: {
    ...messageExample,
    headers: { from: 'Sender <sender@example.org>', subject: 'Hello' },
    text: 'Hi there',
    html: '',
    body: 'Hi there',
    truncated: false,
    raw: 'From: Sender <sender@example.org>\r\nSubject: Hello\r\n\r\nHi there\r\n',
  },
})

/**
 * The full message object: the REST metadata plus `headers`, `text`, `html`, `body` and
 * `raw`. One builder for GET /api/addresses/:email/messages/:messageId, websocket frames and
 * webhook payloads (OpenAPI `EmailMessageWebhook`), so the three never drift apart.
 */
export async function fullMessageJson(bucket: R2Bucket, message: MessageWithHeaders) {
  const [content, raw] = await Promise.all([
    readContent(bucket, message),
    message.size <= MAX_INLINE_RAW_BYTES ? readRaw(bucket, message) : null,
  ])
  return {
    ...messageJson(message),
    headers: headersObject(message.headers),
    text: content.text,
    html: content.html,
    body: content.body,
    truncated: content.truncated === true,
    // JSON cannot carry arbitrary bytes: this is a UTF-8 reading of the raw message, and
    // null above MAX_INLINE_RAW_BYTES. GET /api/raw gives the exact bytes.
    raw: raw ? await new Response(raw.body).text() : null,
  }
}

export type FullMessageJson = Awaited<ReturnType<typeof fullMessageJson>>
