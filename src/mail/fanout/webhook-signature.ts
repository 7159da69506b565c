import { WEBHOOK_SIGNATURE_TOLERANCE_SECONDS } from '../../limits'
import { toHex } from '../../lib/bytes'
import { randomString } from '../../lib/random'

// Webhook requests are signed so a receiver can tell they come from this service and were
// not altered: `X-Mailsac-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the address's
// `webhookSecret`, of `<X-Mailsac-Timestamp>.<raw request body>`. The timestamp is inside
// the signed text so a captured request cannot be replayed later with a fresh timestamp;
// receivers refuse timestamps older than a few minutes. The same scheme as Stripe's and
// Slack's, so receivers have code for it already.

export const SIGNATURE_HEADER = 'X-Mailsac-Signature'
export const TIMESTAMP_HEADER = 'X-Mailsac-Timestamp'

async function hmacKey(secret: string) {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  )
}

/** The `X-Mailsac-Signature` value of a body sent at `timestamp` (Unix seconds). */
export async function signWebhook(secret: string, timestamp: number, body: string) {
  const mac = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    new TextEncoder().encode(`${timestamp}.${body}`),
  )
  return `sha256=${toHex(mac)}`
}

/**
 * What a receiver does: recompute the signature (in constant time) and refuse stale
 * timestamps. Exported for tests and as the reference for docs/realtime.md.
 */
export async function verifyWebhook(
  secret: string,
  headers: { timestamp: string | null; signature: string | null },
  body: string,
  now = Date.now(),
): Promise<boolean> {
  const timestamp = Number(headers.timestamp)
  const hex = /^sha256=([0-9a-f]{64})$/.exec(headers.signature ?? '')?.[1]
  if (!Number.isInteger(timestamp) || !hex) return false
  if (Math.abs(now / 1000 - timestamp) > WEBHOOK_SIGNATURE_TOLERANCE_SECONDS) return false
  const mac = Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16))
  return crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    mac,
    new TextEncoder().encode(`${timestamp}.${body}`),
  )
}

/** A new webhook signing key: 256 bits, prefixed so it is recognisable in a secret store. */
export function newWebhookSecret(): string {
  return `whsec_${randomString(43)}`
}
