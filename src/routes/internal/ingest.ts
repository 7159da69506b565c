import { Hono } from 'hono'
import { bearerToken } from '../../http/auth'
import { fail } from '../../http/errors'
import { readBody } from '../../lib/read-body'
import { z } from 'zod'
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES } from '../../limits'
import type { Arrival, Envelope } from '../../mail/inbound/arrival'
import { ingestBatch, ingestMessage } from '../../mail/inbound/ingest'
import { ARRIVAL_KEY } from '../../mail/inbound/idempotency'
import { Refusal } from '../../mail/refusal'
import type { AppEnv } from '../../env'
import { describe, json, OPERATOR } from '../../http/openapi/describe'
import { IngestBatchResult, IngestResult } from './schema'

/**
 * `POST /internal/ingest?from=&to=&to=&ip=`: raw RFC 5322 bytes in, stored message ids out.
 * The SMTP bridge answers its client only after this returns: 200 means durable, 503 means
 * "try again later" (SMTP 451), other 4xx are permanent refusals (SMTP 5xx).
 */
export const ingestRoutes = new Hono<AppEnv>()

ingestRoutes.use('*', bearerToken('INGEST_TOKEN'))

ingestRoutes.post(
  '/',
  describe({
    tag: OPERATOR,
    access: 'ingest',
    summary: 'Store one received message',
    description:
      "The SMTP bridge's route: the raw message as the body, the envelope in the query. 200 means stored durably; 503 means try again later; other 4xx are permanent refusals.",
    parameters: [
      { in: 'query', name: 'from', description: 'MAIL FROM', schema: { type: 'string' } },
      {
        in: 'query',
        name: 'to',
        required: true,
        description: 'RCPT TO, repeated',
        schema: { type: 'array', items: { type: 'string' } },
        style: 'form',
        explode: true,
      },
      {
        in: 'query',
        name: 'ip',
        description: "The SMTP client's address",
        schema: { type: 'string' },
      },
    ],
    requestBody: {
      required: true,
      content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } },
    },
    responses: { 200: json(IngestResult, 'Stored: one message per recipient inbox') },
    failures: {
      400: 'The envelope has no recipient.',
      403: 'This service does not accept mail for someone@elsewhere.example.',
      413: `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`,
      503: 'Temporary storage failure (storing); try again later.',
    },
  }),
  async (c) => {
    const declared = Number(c.req.header('content-length') ?? 0)
    const form = c.req.header('content-type')?.startsWith('multipart/form-data') ?? false
    // A form carries the envelope and the part headers beside the message, so its body may pass
    // MAX_MESSAGE_BYTES by that much (MAX_BATCH_BYTES, as the batch route allows) for a message
    // within it; the message's own size is checked once parsed out (prepareArrival).
    if (declared > (form ? MAX_BATCH_BYTES : MAX_MESSAGE_BYTES))
      fail(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
    let raw: Uint8Array
    let envelope: Envelope
    if (form) {
      // The envelope in the body, as the batch route takes it: a URL is limited to 16 KB and
      // a hundred recipients do not fit one.
      const items = await formArrivals(c.req.raw)
      if (items.length !== 1) fail(400, 'Expected one envelope and one message.')
      ;({ raw, envelope } = items[0])
    } else {
      const body = await readBody(c.req.raw.body, declared, MAX_MESSAGE_BYTES)
      if (!body) fail(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
      raw = body
      envelope = {
        from: c.req.query('from') ?? '',
        to: c.req.queries('to') ?? [],
        ip: c.req.query('ip') ?? null,
      }
    }
    try {
      return c.json({ messages: await ingestMessage(c.env, raw, envelope) })
    } catch (error) {
      if (error instanceof Refusal) fail(error.status, error.message)
      throw error
    }
  },
)

const envelopeField = z.object({
  from: z.string().default(''),
  to: z.array(z.string()).min(1),
  ip: z.string().nullish(),
  // The bridge's idempotency key of the SMTP transaction (src/mail/inbound/idempotency.ts).
  key: z.string().regex(ARRIVAL_KEY).optional(),
  maybeStored: z.boolean().optional(),
})

/**
 * `POST /internal/ingest/batch`: multipart/form-data with repeated `envelope` (JSON
 * `{from, to[], ip}`) and `message` (the raw bytes) fields, paired by position. Answers 200
 * with `{results: [{messages} | {status, error, message}]}` in the same order, or 503 when
 * storage failed (then nothing of the batch was stored).
 */
ingestRoutes.post(
  '/batch',
  describe({
    tag: OPERATOR,
    access: 'ingest',
    summary: 'Store a batch of received messages',
    description:
      "multipart/form-data with repeated `envelope` (JSON `{from, to[], ip}`) and `message` (raw bytes) parts, paired by position. Each result is the stored messages or that delivery's refusal; 503 when storage failed (then nothing was stored).",
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: {
              envelope: {
                type: 'array',
                items: { type: 'string', description: 'JSON {from, to[], ip}' },
              },
              message: { type: 'array', items: { type: 'string', format: 'binary' } },
            },
            required: ['envelope', 'message'],
          },
        },
      },
    },
    responses: { 200: json(IngestBatchResult, 'One result per message, in order') },
    failures: {
      400: 'Each message needs exactly one envelope, in the same order.',
      413: `A batch may carry at most ${MAX_BATCH_BYTES} bytes.`,
      503: 'Temporary storage failure (storing); try again later.',
    },
  }),
  async (c) => {
    const declared = Number(c.req.header('content-length') ?? 0)
    if (declared > MAX_BATCH_BYTES) fail(413, `A batch may carry at most ${MAX_BATCH_BYTES} bytes.`)
    const items = await formArrivals(c.req.raw)
    if (items.length > MAX_BATCH_MESSAGES)
      fail(400, `At most ${MAX_BATCH_MESSAGES} messages per batch.`)
    try {
      return c.json({ results: await ingestBatch(c.env, items) })
    } catch (error) {
      if (error instanceof Refusal) fail(error.status, error.message)
      throw error
    }
  },
)

/** The `envelope` and `message` parts of a multipart body, paired by position. */
async function formArrivals(request: Request): Promise<Arrival[]> {
  let form: FormData
  // With a Content-Length the routes have already refused a body over the limit; without one
  // (chunked), formData() would read any size before a check, so the body is read bounded first.
  let source = request
  if (request.headers.get('content-length') === null) {
    const body = await readBody(request.body, 0, MAX_BATCH_BYTES)
    if (!body) fail(413, `A form may carry at most ${MAX_BATCH_BYTES} bytes.`)
    source = new Request(request.url, {
      method: 'POST',
      headers: { 'content-type': request.headers.get('content-type') ?? '' },
      body,
    })
  }
  try {
    form = await source.formData()
  } catch {
    fail(400, 'Expected multipart/form-data with envelope and message fields.')
  }
  const envelopes = form.getAll('envelope')
  const files = form.getAll('message')
  if (envelopes.length !== files.length || files.length === 0) {
    fail(400, 'Each message needs exactly one envelope, in the same order.')
  }
  const items: Arrival[] = []
  for (const [i, file] of files.entries()) {
    const envelope = envelopeField.safeParse(
      typeof envelopes[i] === 'string' ? safeJson(envelopes[i] as string) : null,
    )
    if (!envelope.success) fail(400, `Invalid envelope ${i}: {from, to: [..], ip, key} expected.`)
    if (typeof file === 'string') fail(400, `Invalid message ${i}: expected a file part.`)
    items.push({ raw: new Uint8Array(await file.arrayBuffer()), envelope: envelope.data })
  }
  return items
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
