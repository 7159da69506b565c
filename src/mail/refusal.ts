/**
 * The statuses a refusal of arriving mail can carry. The status alone decides what the
 * refusal means on every path: 503 is temporary (the sender keeps the mail and retries: SMTP
 * 451 from the bridge, an exception out of `email()` so Email Routing retries, 503 over
 * HTTP); every other status is permanent (SMTP 5xx, `setReject`, the same 4xx over HTTP).
 * The bridge's SMTP reply for each status is one table in bridge/src/smtp/replies.js.
 */
export type RefusalStatus = 400 | 403 | 413 | 503

/** Mail that was not stored, and why. */
export class Refusal extends Error {
  constructor(
    readonly status: RefusalStatus,
    message: string,
  ) {
    super(message)
    this.name = 'Refusal'
  }

  /** A permanent refusal must not be retried; a temporary one must be, or the mail is lost. */
  get permanent(): boolean {
    return isPermanent(this.status)
  }
}

export function isPermanent(status: RefusalStatus): boolean {
  return status !== 503
}
