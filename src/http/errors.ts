import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { StatusError } from '../lib/status-error'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** The `error` field of Mailsac's `{ error, message }` bodies: the status text. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error'
}

/** An expected failure; `app.onError` answers it as `{ error, message }` with this status. */
export function fail(status: ContentfulStatusCode, message: string): never {
  throw new HTTPException(status, { message })
}

/** `app.notFound`: unknown routes answer like every other error. */
export function handleNotFound(c: Context) {
  return c.json({ error: 'Not Found', message: `No route for ${c.req.method} ${c.req.path}` }, 404)
}

/**
 * `app.onError`: expected failures become `{ error, message }` with their status; anything
 * else is logged and answered with a generic 500, never a stack trace.
 */
export function handleError(error: Error, c: Context) {
  if (error instanceof HTTPException) {
    return c.json({ error: statusText(error.status), message: error.message }, error.status)
  }
  if (error instanceof StatusError) {
    return c.json({ error: statusText(error.status), message: error.message }, error.status)
  }
  console.error(`unhandled error on ${c.req.method} ${c.req.path}: ${error.message}`)
  return c.json({ error: statusText(500), message: 'Something went wrong; try again later.' }, 500)
}
