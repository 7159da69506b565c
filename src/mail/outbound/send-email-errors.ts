/**
 * Whether a `send_email` failure will happen again on retry, and what to tell the caller.
 *
 * The binding's errors carry a `code` (Cloudflare Email Service's error codes, which Email
 * Routing's binding shares). Email Routing delivers only to verified destination addresses and
 * refuses others with "destination address is not a verified address" (E_RECIPIENT_NOT_ALLOWED)
 * until the sending domain is onboarded to Email Service; a message over Email Service's size
 * limit (5 MiB, 25 MiB to verified addresses) is E_CONTENT_TOO_LARGE. Retrying such a send (or a
 * forward, 12 times over 29 hours, re-reading up to 25 MiB each time) only costs, so those are
 * permanent. Rate and daily limits, a failed delivery and internal errors may pass later, and so
 * may anything without a code we know (a timeout, a network fault).
 */

/** Codes a retry cannot fix, each with what would. */
const PERMANENT: Record<string, string> = {
  E_RECIPIENT_NOT_ALLOWED:
    'Email Routing delivers only to verified destination addresses; sending to others needs the domain onboarded to Cloudflare Email Service (see GET /api/limits).',
  E_RECIPIENT_SUPPRESSED:
    'Cloudflare suppresses this recipient after earlier bounces or complaints.',
  E_SENDER_NOT_VERIFIED:
    'The From address is not allowed to send: onboard its domain to Cloudflare Email Service (see GET /api/limits).',
  E_SENDER_DOMAIN_NOT_AVAILABLE:
    'The sending domain is not onboarded to Cloudflare Email Service (see GET /api/limits).',
  E_CONTENT_TOO_LARGE:
    'Cloudflare Email Service sends at most 5 MiB per message (25 MiB to verified destination addresses).',
  E_TOO_MANY_RECIPIENTS: 'Cloudflare Email Service sends to at most 50 recipients per message.',
  E_VALIDATION_ERROR: 'Cloudflare refused the message as invalid.',
  E_FIELD_MISSING: 'Cloudflare refused the message: a required field is missing.',
}

/** Header problems (E_HEADER_VALUE_TOO_LONG, E_HEADERS_TOO_LARGE, ...) are in the message. */
const PERMANENT_HEADER_CODE = /^E_HEADERS?_/

/** The code of a binding error, from its `code` or, failing that, its text. */
function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^E_[A-Z_]+$/.test(code)) return code
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error)
  const named = /\b(E_[A-Z_]{3,})\b/.exec(text)?.[1]
  if (named) return named
  return /not a verified address/i.test(text) ? 'E_RECIPIENT_NOT_ALLOWED' : null
}

export function sendEmailRefusalIsPermanent(error: unknown): boolean {
  const code = errorCode(error)
  return code !== null && (code in PERMANENT || PERMANENT_HEADER_CODE.test(code))
}

/** What would fix a permanent refusal, in plain words; null for a temporary one. */
export function sendEmailRefusalHint(error: unknown): string | null {
  const code = errorCode(error)
  if (code === null) return null
  if (code in PERMANENT) return PERMANENT[code]
  return PERMANENT_HEADER_CODE.test(code) ? 'Cloudflare refused a header of the message.' : null
}

/**
 * The largest message `send_email` takes at all (Email Service: 25 MiB to verified destination
 * addresses, 5 MiB to others). A forward over it is failed before it is tried.
 * https://developers.cloudflare.com/email-service/platform/limits/
 */
export const SEND_EMAIL_MAX_BYTES = 25 * 1024 * 1024
