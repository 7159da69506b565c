import { Hono } from 'hono'
import { bearerToken } from '../auth'
import { fail } from '../errors'
import { z } from 'zod'
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES } from '../limits'
import { ingestBatch, ingestMessage, IngestRefusal, type Envelope } from '../mail/ingest'
import type { AppEnv } from '../types'

/**
 * `POST /internal/ingest?from=&to=&to=&ip=`: raw RFC 5322 bytes in, stored message ids out.
 * The SMTP bridge answers its client only after this returns: 200 means durable, 503 means
 * "try again later" (SMTP 451), other 4xx are permanent refusals (SMTP 5xx).
 */
export const ingestRoutes = new Hono<AppEnv>()

ingestRoutes.use('*', bearerToken('INGEST_TOKEN'))

ingestRoutes.post('/', async (c) => {
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > MAX_MESSAGE_BYTES)
    fail(413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  const raw = new Uint8Array(await c.req.arrayBuffer())
  const envelope = {
    from: c.req.query('from') ?? '',
    to: c.req.queries('to') ?? [],
    ip: c.req.query('ip') ?? null,
  }
  try {
    return c.json({ messages: await ingestMessage(c.env, raw, envelope) })
  } catch (error) {
    if (error instanceof IngestRefusal) fail(error.status, error.message)
    throw error
  }
})

const envelopeField = z.object({
  from: z.string().default(''),
  to: z.array(z.string()).min(1),
  ip: z.string().nullish(),
})

/**
 * `POST /internal/ingest/batch`: multipart/form-data with repeated `envelope` (JSON
 * `{from, to[], ip}`) and `message` (the raw bytes) fields, paired by position. Answers 200
 * with `{results: [{messages} | {status, error, message}]}` in the same order, or 503 when
 * storage failed (then nothing of the batch was stored).
 */
ingestRoutes.post('/batch', async (c) => {
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > MAX_BATCH_BYTES) fail(413, `A batch may carry at most ${MAX_BATCH_BYTES} bytes.`)
  let form: FormData
  try {
    form = await c.req.raw.formData()
  } catch {
    fail(400, 'Expected multipart/form-data with envelope and message fields.')
  }
  const envelopes = form.getAll('envelope')
  const files = form.getAll('message')
  if (envelopes.length !== files.length || files.length === 0) {
    fail(400, 'Each message needs exactly one envelope, in the same order.')
  }
  if (files.length > MAX_BATCH_MESSAGES)
    fail(400, `At most ${MAX_BATCH_MESSAGES} messages per batch.`)
  const items: { raw: Uint8Array; envelope: Envelope }[] = []
  for (const [i, file] of files.entries()) {
    const envelope = envelopeField.safeParse(
      typeof envelopes[i] === 'string' ? safeJson(envelopes[i] as string) : null,
    )
    if (!envelope.success) fail(400, `Invalid envelope ${i}: {from, to: [..], ip} expected.`)
    if (typeof file === 'string') fail(400, `Invalid message ${i}: expected a file part.`)
    items.push({ raw: new Uint8Array(await file.arrayBuffer()), envelope: envelope.data })
  }
  try {
    return c.json({ results: await ingestBatch(c.env, items) })
  } catch (error) {
    if (error instanceof IngestRefusal) fail(error.status, error.message)
    throw error
  }
})

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
