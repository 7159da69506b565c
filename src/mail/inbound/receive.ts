import { MAX_MESSAGE_BYTES } from '../../limits'
import { Refusal } from '../refusal'
import { emailRoutingKey } from './idempotency'
import { ingestMessage, type IngestBindings } from './ingest'

/**
 * Email Routing's entry point. A permanent refusal is `setReject` (the sending MTA gets a
 * 5xx); a temporary one is rethrown, which makes Email Routing answer with a temporary
 * failure so the sender keeps the mail and retries.
 */
export async function receiveEmail(message: ForwardableEmailMessage, env: IngestBindings) {
  if (message.rawSize > MAX_MESSAGE_BYTES) {
    message.setReject(`Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
    return
  }
  const raw = new Uint8Array(await new Response(message.raw).arrayBuffer())
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
