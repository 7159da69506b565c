import { headersObject, messageJson, type MessageRow } from '../db/queries/messages'
import { MAX_INLINE_RAW_BYTES } from '../limits'
import { readContent, readRaw } from './inbound/storage'

/**
 * The full message object: the REST metadata plus `headers`, `text`, `html`, `body` and
 * `raw`. One builder for GET /api/addresses/:email/messages/:messageId, websocket frames and
 * webhook payloads (OpenAPI `EmailMessageWebhook`), so the three never drift apart.
 */
export async function fullMessageJson(bucket: R2Bucket, message: MessageRow) {
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
    // JSON cannot carry arbitrary bytes: this is a UTF-8 reading of the raw message, and
    // null above MAX_INLINE_RAW_BYTES. GET /api/raw gives the exact bytes.
    raw: raw ? await new Response(raw.body).text() : null,
  }
}

export type FullMessageJson = Awaited<ReturnType<typeof fullMessageJson>>
