/**
 * Whether a `send_email` failure will happen again on retry. Email Routing's binding delivers
 * only to verified destination addresses and refuses others with "destination address is not
 * a verified address" (code E_RECIPIENT_NOT_ALLOWED) until the sending domain is onboarded to
 * Cloudflare's Email Service; retrying such a send (or a forward, 12 times over 29 hours) only
 * costs. Anything else (a timeout, an internal error) may pass later.
 */
export function sendEmailRefusalIsPermanent(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error)
  return /E_RECIPIENT_NOT_ALLOWED|not a verified address/i.test(text)
}

/** The reason given to the caller: Cloudflare's own words, and what would fix it. */
export const UNVERIFIED_DESTINATION_HINT =
  'Email Routing delivers only to verified destination addresses; sending to others needs the domain onboarded to Cloudflare Email Service (see GET /api/limits).'
