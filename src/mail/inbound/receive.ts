import { database } from '../../db/client'
import { MAX_MESSAGE_BYTES } from '../../limits'
import { emailRoutingFault } from '../faults'
import { readBody } from '../../lib/read-body'
import { Refusal } from '../refusal'
import { emailRoutingKey } from './idempotency'
import { ingestMessage, type IngestBindings } from './ingest'

/**
 * Email Routing's entry point. A permanent refusal is `setReject` (the sending MTA gets a
 * 5xx); a temporary one is rethrown, which makes Email Routing answer with a temporary
 * failure so the sender keeps the mail and retries.
 */
export async function receiveEmail(
  message: ForwardableEmailMessage,
  env: IngestBindings & { SMTP_FAULTS?: string },
) {
  // #17.6: an injected fault answers before anything is read or stored.
  if (await emailRoutingFault(message, database(env.DB), env)) return
  if (message.rawSize > MAX_MESSAGE_BYTES) {
    message.setReject(`Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
    return
  }
  const raw = await readBody(message.raw, message.rawSize, MAX_MESSAGE_BYTES)
  if (!raw) {
    message.setReject(`Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
    return
  }
  try {
    const envelope = { from: message.from, to: [message.to] }
    // Email Routing only sends a message again after a temporary failure, which may have
    // followed a store (a timeout): every arrival from it may be a retry.
    const key = await emailRoutingKey(envelope, raw)
    await ingestMessage(env, raw, { ...envelope, key, maybeStored: true })
  } catch (error) {
    if (error instanceof Refusal && error.permanent) {
      message.setReject(error.message)
      return
    }
    throw error
  }
}
