/**
 * An expected failure with the HTTP status that describes it, for code below the HTTP layer
 * (the mail pipeline) that must refuse a request without importing Hono; `app.onError`
 * answers it as `{ error, message }` with that status.
 */
export class StatusError extends Error {
  constructor(
    readonly status: 400 | 401 | 402 | 403 | 404 | 409 | 413 | 429 | 503,
    message: string,
  ) {
    super(message)
    this.name = 'StatusError'
  }
}

/** Throws a StatusError. */
export function refuse(status: StatusError['status'], message: string): never {
  throw new StatusError(status, message)
}
