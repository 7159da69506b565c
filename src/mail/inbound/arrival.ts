/** The SMTP envelope of an arriving message (from Email Routing or the bridge). */
export type Envelope = {
  from: string
  to: string[]
  /** The SMTP client's address, when the bridge received the message. */
  ip?: string | null
  /** The sender's idempotency key for this arrival (see idempotency.ts), when it has one. */
  key?: string
  /**
   * An earlier attempt of this arrival may have been stored (the sender was answered with a
   * temporary failure): its key is looked up, and a match answers with the ids stored then.
   */
  maybeStored?: boolean
}

/** An arriving message: its exact bytes and its envelope. */
export type Arrival = { raw: Uint8Array; envelope: Envelope }

/** A message row written for one recipient inbox of an arrival. */
export type StoredMessage = { _id: string; inbox: string }

/** The bindings the pipeline touches; tests pass a bucket that fails to prove no mail is lost. */
export type IngestBindings = Pick<Env, 'DB' | 'MAIL' | 'REALTIME' | 'DELIVERIES'> & {
  ACCEPTED_DOMAINS?: string
}
