import { Hono } from 'hono'
import { bearerToken } from '../auth'
import { fail } from '../errors'
import { MAX_MESSAGE_BYTES } from '../limits'
import { ingestMessage, IngestRefusal } from '../mail/ingest'
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
