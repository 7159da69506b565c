import { EmailMessage } from 'cloudflare:email'
import { database, type Database } from '../../db/client'
import { refundSends, spendSends } from '../../db/queries/accounts'
import {
  ensureWebhookSecret,
  findPrivateAddress,
  type PrivateAddress,
} from '../../db/queries/addresses'
import {
  findDelivery,
  recordAttempt,
  settleDeliveries,
  type AttemptOutcome,
  type DeliveryRow,
} from '../../db/queries/deliveries'
import { findMessage, type MessageRow } from '../../db/queries/messages'
import {
  DELIVERY_MAX_ATTEMPTS,
  DELIVERY_RETRY_BASE_SECONDS,
  DELIVERY_RETRY_MAX_DELAY_SECONDS,
  MAX_HEADERS_BYTES,
  MAX_OUTGOING_CONNECTIONS,
  WEBHOOK_TIMEOUT_MS,
} from '../../limits'
import { domainOf } from '../../lib/address'
import { mapConcurrently } from '../../lib/concurrency'
import { forwardedHead, headerSection } from './forward'
import { fullMessageJson } from '../message-json'
import type { DeliveryJob } from './notify'
import { readRawRange } from '../inbound/storage'
import {
  SEND_EMAIL_MAX_BYTES,
  sendEmailRefusalHint,
  sendEmailRefusalIsPermanent,
} from '../outbound/send-email-errors'
import {
  newWebhookSecret,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from './webhook-signature'
import { webhookTargetProblem } from './webhook-target'

/** The queue consumer's bindings. */
export type DeliveryBindings = Pick<Env, 'DB' | 'MAIL' | 'EMAIL' | 'ALLOW_LOCAL_WEBHOOKS'>

/**
 * The dead-letter queue of the deliveries consumer; keep in step with wrangler.toml. A
 * message lands there after DELIVERY_MAX_ATTEMPTS failed attempts (or if the consumer kept
 * crashing on it) and is recorded as `dead`.
 */
export const DELIVERIES_DEAD_LETTER_QUEUE = 'mailsac-edge-deliveries-dlq'

/** The header naming the delivery, the same on every attempt: receivers de-duplicate on it. */
export const DELIVERY_ID_HEADER = 'X-Mailsac-Delivery-Id'

/** Seconds before the retry that follows failed attempt `attempt` (1-based): 60 s doubling. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(
    DELIVERY_RETRY_BASE_SECONDS * 2 ** Math.max(0, attempt - 1),
    DELIVERY_RETRY_MAX_DELAY_SECONDS,
  )
}

function jobOf(body: unknown): DeliveryJob | null {
  if (body && typeof body === 'object' && 'deliveryId' in body) {
    const id = (body as { deliveryId: unknown }).deliveryId
    if (typeof id === 'string') return { deliveryId: id }
  }
  return null
}

/**
 * The `queue()` handler: one attempt per queued delivery, at most MAX_OUTGOING_CONNECTIONS at
 * once (a 7th connection would wait on the platform while its timeout runs). Success, and
 * failures that retrying cannot fix, are acknowledged; other failures are retried with
 * exponential backoff until the last attempt, after which the Queue dead-letters them.
 */
export async function consumeDeliveries(batch: MessageBatch, env: DeliveryBindings) {
  const db = database(env.DB)
  if (batch.queue === DELIVERIES_DEAD_LETTER_QUEUE) {
    const ids = batch.messages.flatMap((message) => jobOf(message.body)?.deliveryId ?? [])
    await settleDeliveries(db, ids, 'dead', 'Gave up after the last retry.', new Date())
    batch.ackAll()
    return
  }
  await mapConcurrently(batch.messages, MAX_OUTGOING_CONNECTIONS, async (message) => {
    const job = jobOf(message.body)
    if (!job) {
      console.error(`deliveries: dropping a malformed queue message ${message.id}`)
      message.ack()
      return
    }
    let retry: boolean
    try {
      retry = await attemptDelivery(env, db, job.deliveryId, message.attempts)
    } catch (error) {
      // Our own failure (D1, R2): retry like a failed attempt; nothing was recorded.
      console.error(`deliveries: attempt of ${job.deliveryId} failed: ${(error as Error).message}`)
      retry = true
    }
    if (retry) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) })
    else message.ack()
  })
}

type Attempt =
  | { ok: true; statusCode?: number }
  | { ok: false; statusCode?: number; error: string; permanent?: boolean }

/** One attempt of one delivery, recorded in `deliveries`. Returns whether to retry. */
async function attemptDelivery(
  env: DeliveryBindings,
  db: Database,
  id: string,
  attemptNumber: number,
): Promise<boolean> {
  const delivery = await findDelivery(db, id)
  // Queues deliver at least once: a delivery already made is not made again.
  if (!delivery || delivery.status === 'delivered' || delivery.status === 'failed') return false
  const attempt = await attemptOnce(env, db, delivery)
  const last = attemptNumber >= DELIVERY_MAX_ATTEMPTS
  const outcome: AttemptOutcome = attempt.ok
    ? { status: 'delivered', statusCode: attempt.statusCode ?? null }
    : {
        status: attempt.permanent ? 'failed' : last ? 'dead' : 'pending',
        statusCode: attempt.statusCode ?? null,
        error: attempt.error.slice(0, 500),
      }
  await recordAttempt(db, id, outcome, new Date())
  // The last failed attempt is retried too, so the Queue moves it to the dead-letter queue,
  // where an operator can inspect or replay it.
  return !attempt.ok && !attempt.permanent
}

async function attemptOnce(
  env: DeliveryBindings,
  db: Database,
  delivery: DeliveryRow,
): Promise<Attempt> {
  const [message] = await findMessage(db, delivery.address, delivery.messageId)
  if (!message) {
    return { ok: false, permanent: true, error: 'The message was deleted before it was delivered.' }
  }
  const address = await findPrivateAddress(db, delivery.address)
  // Deliver to the setting as it is now: turned off means no more attempts.
  const target =
    address &&
    { webhook: address.webhook, slack: address.webhookSlack, forward: address.forward }[
      delivery.kind
    ]
  if (!address || !target) {
    return { ok: false, permanent: true, error: `The ${delivery.kind} setting was turned off.` }
  }
  if (delivery.kind === 'forward') return forward(env, db, address, delivery, message, target)
  // Re-checked on every attempt: the SSRF rules may be stricter than when it was saved.
  const allowLocal = delivery.kind === 'webhook' && env.ALLOW_LOCAL_WEBHOOKS === 'true'
  const problem = webhookTargetProblem(target, allowLocal)
  if (problem) return { ok: false, permanent: true, error: `Refused target: ${problem}` }
  if (delivery.kind === 'slack') {
    return post(target, JSON.stringify(slackPayload(address, message)), delivery)
  }
  const body = JSON.stringify(await fullMessageJson(env.MAIL, message))
  const timestamp = Math.floor(Date.now() / 1000)
  const secret = await ensureWebhookSecret(db, address, newWebhookSecret)
  return post(target, body, delivery, {
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: await signWebhook(secret, timestamp, body),
  })
}

async function post(
  url: string,
  body: string,
  delivery: DeliveryRow,
  headers: Record<string, string> = {},
): Promise<Attempt> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'mailsac-edge-webhook/1',
        [DELIVERY_ID_HEADER]: delivery.id,
        'X-Mailsac-Attempt': String(delivery.attempts + 1),
        ...headers,
      },
      body,
      // A redirect could point anywhere, past the SSRF check: it counts as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    })
  } catch (error) {
    return { ok: false, error: `Request failed: ${(error as Error).message}` }
  }
  // Only the status matters; the body is not read, so a huge or slow one costs nothing.
  await response.body?.cancel()
  if (response.status >= 200 && response.status < 300) {
    return { ok: true, statusCode: response.status }
  }
  // A 4xx says the request itself is refused and will be refused again (408 and 429 excepted:
  // they ask to come back later), so retrying for 29 hours only costs both sides.
  const permanent =
    response.status >= 400 &&
    response.status < 500 &&
    response.status !== 408 &&
    response.status !== 429
  return { ok: false, statusCode: response.status, error: `HTTP ${response.status}`, permanent }
}

/** Slack's `&`, `<` and `>` are control characters in message text. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * A short Slack message. From and To appear only with `webhookSlackToFrom`: a Slack channel
 * is often wider than the people who may read the inbox.
 */
function slackPayload(address: PrivateAddress, message: MessageRow) {
  const lines = [`New email in ${slackEscape(message.inbox)}`]
  if (address.webhookSlackToFrom) {
    const list = (recipients: MessageRow['from']) =>
      slackEscape(recipients.map((r) => r.address).join(', ') || '(none)')
    lines.push(`From: ${list(message.from)}`, `To: ${list(message.to)}`)
  }
  lines.push(`Subject: ${slackEscape(message.subject || '(no subject)')}`)
  return { text: lines.join('\n') }
}

/** Why a forward was refused: the owner's outgoing credits are spent. */
export const FORWARD_NO_CREDITS =
  'No outgoing credits left: a forward costs the address owner one, like a send.'

/**
 * Forwards the message to `to`, spending one outgoing credit of the address's owner, as a
 * send would: otherwise a private address forwarding elsewhere relays anyone's mail for free.
 * A failed attempt gives the credit back (a retry spends it again).
 */
async function forward(
  env: DeliveryBindings,
  db: Database,
  address: PrivateAddress,
  delivery: DeliveryRow,
  message: MessageRow,
  to: string,
): Promise<Attempt> {
  // The header section alone (ingest keeps it under MAX_HEADERS_BYTES), then the body streamed
  // from R2 behind the new header: a forward never holds the message in memory, so the six
  // deliveries a batch runs at once stay small even when each is 25 MiB.
  const headRead = Math.min(message.size, MAX_HEADERS_BYTES + 4)
  const prefix = await readRawRange(env.MAIL, message, 0, headRead)
  if (!prefix) return { ok: false, permanent: true, error: 'The raw message is gone from storage.' }
  const prefixBytes = new Uint8Array(await new Response(prefix).arrayBuffer())
  const section = headerSection(prefixBytes)
  if (!section && message.size > headRead) {
    return { ok: false, permanent: true, error: 'The message has no end to its header section.' }
  }
  const head = forwardedHead(
    section ? prefixBytes.subarray(0, section.end) : prefixBytes,
    section?.newline ?? '\r\n',
    {
      inbox: message.inbox,
      originalFrom: message.from[0]?.address || message.envelopeFrom || 'unknown sender',
      messageId: `${delivery.id}@${domainOf(message.inbox)}`,
      deliveryId: delivery.id,
    },
  )
  const bodyStart = section ? section.bodyStart : message.size
  const total = head.byteLength + (message.size - bodyStart)
  // The forwarded copy carries a few more header lines than the stored message, so one
  // stored at the very limit can come out over it: that never fits, whatever the retry.
  if (total > SEND_EMAIL_MAX_BYTES) {
    return {
      ok: false,
      permanent: true,
      error: `The forwarded message is ${total} bytes; send_email takes at most ${SEND_EMAIL_MAX_BYTES}.`,
    }
  }
  if ((await spendSends(db, address.owner, 1)) === null) {
    return { ok: false, permanent: true, error: FORWARD_NO_CREDITS }
  }
  const body = await readRawRange(env.MAIL, message, bodyStart, message.size - bodyStart)
  if (!body) {
    await refundSends(db, address.owner, 1)
    return { ok: false, permanent: true, error: 'The raw message is gone from storage.' }
  }
  const { readable, writable } = new FixedLengthStream(total)
  const writing = (async () => {
    const writer = writable.getWriter()
    await writer.write(head)
    writer.releaseLock()
    await body.pipeTo(writable)
  })()
  // A send that fails without reading everything cancels the rest of the body.
  writing.catch(() => undefined)
  try {
    // send() resolves once it has read the whole message (a body that failed to stream fails it).
    await env.EMAIL.send(new EmailMessage(message.inbox, to, readable))
    return { ok: true }
  } catch (error) {
    await readable.cancel().catch(() => undefined)
    await refundSends(db, address.owner, 1)
    // An unverified destination stays unverified, a message too large stays too large: no
    // 12 attempts over 29 hours.
    const hint = sendEmailRefusalHint(error)
    return {
      ok: false,
      permanent: sendEmailRefusalIsPermanent(error),
      error: `send_email refused: ${(error as Error).message}${hint ? ` (${hint})` : ''}`,
    }
  }
}

/**
 * The address's webhook signing key, created on first use when the address has none yet
 * (addresses configured before signing existed). Concurrent first uses agree: only the
 * first write lands, and everyone reads it back.
 */
