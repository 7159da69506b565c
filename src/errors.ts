import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
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
