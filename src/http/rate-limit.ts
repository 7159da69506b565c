import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { fail } from './errors'
import type { AppEnv } from '../env'
import { sameSecret } from '../lib/secrets'

// Why Cloudflare's Rate Limiting binding rather than a Durable Object counter: the binding
// counts in the Cloudflare location serving the request, so a check adds no network hop and
// costs nothing per request, while a Durable Object would put a round trip (possibly to
// another continent) and a billed request in front of every API call. Its counts are per
// location and approximate, which is what abuse protection needs; its limits are deploy-time
// configuration (`[[ratelimits]]` in wrangler.toml, mirrored in src/limits.ts for
// GET /api/limits) and its windows are 10 or 60 seconds, so Retry-After is the window length,
// an upper bound of the wait.

export type RateLimitOptions = {
  /** Counts requests made with a valid API key, one budget per account. */
  perAccount: (env: Env) => RateLimit
  /** Counts anonymous requests, one budget per client IP (an IPv6 client per /64). */
  perClient: (env: Env) => RateLimit
  /** The window of both bindings, as configured in wrangler.toml: 10 or 60 seconds. */
  periodSeconds: number
}

/**
 * The network a client counts as: its IPv4 address, or the /64 of its IPv6 address (one
 * subscriber usually holds a whole /64 and could otherwise rotate addresses freely).
 */
export function clientNetwork(ip: string | undefined): string {
  const address = ip?.trim().toLowerCase()
  if (!address) return 'unknown'
  if (!address.includes(':')) return address
  const [head, tail] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups =
    tail === undefined
      ? left
      : [
          ...left,
          ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'),
          ...right,
        ]
  const prefix = groups.slice(0, 4).map((group) => (parseInt(group, 16) || 0).toString(16))
  return `${prefix.join(':')}::/64`
}

/** Header carrying the bridge's INGEST_TOKEN on its REST calls, vouching for `BRIDGE_CLIENT_IP`. */
export const BRIDGE_TOKEN_HEADER = 'X-Bridge-Token'

/** The POP3 client's address as the bridge saw it; trusted only with a valid bridge token. */
export const BRIDGE_CLIENT_IP_HEADER = 'X-Bridge-Client-IP'

/**
 * The address an anonymous request counts against. Requests relayed by the POP3 bridge all
 * come from its one address; the bridge names the real client in `X-Bridge-Client-IP`, which
 * is believed only next to the bridge's own secret, so nobody else can pick their budget.
 */
export function clientAddress(headers: { header: (name: string) => string | undefined }, env: Env) {
  const token = headers.header(BRIDGE_TOKEN_HEADER)
  const relayed = headers.header(BRIDGE_CLIENT_IP_HEADER)
  if (token && relayed && env.INGEST_TOKEN && sameSecret(token, env.INGEST_TOKEN)) return relayed
  return headers.header('cf-connecting-ip')
}

/**
 * `RATE_LIMITS = "off"` lifts the limits: `npm start` sets it, so a test suite polling the
 * local stack with no key never meets a 429. Deployed, the setting is "on" (wrangler.toml).
 */
export function rateLimitsOn(env: { RATE_LIMITS?: string }): boolean {
  return env.RATE_LIMITS !== 'off'
}

function tooManyFromClient(retryAfter: string): never {
  return fail(
    429,
    `Too many requests from this address; retry in ${retryAfter} seconds, or use an API key.`,
  )
}

/**
 * Counts one request against the client's (anonymous) budget and answers 429 when it is
 * spent. For failed authentication: a wrong API key is refused before the account-based
 * limiter could count it, so guessing keys would otherwise cost nothing.
 */
export async function limitClient(
  c: Context<AppEnv>,
  perClient: RateLimit,
  periodSeconds: number,
): Promise<void> {
  if (!rateLimitsOn(c.env)) return
  const key = `ip:${clientNetwork(clientAddress(c.req, c.env))}`
  if ((await perClient.limit({ key })).success) return
  c.header('Retry-After', String(periodSeconds))
  tooManyFromClient(String(periodSeconds))
}

/**
 * Limits requests per API key, or per client IP (`CF-Connecting-IP`, set by Cloudflare) for
 * requests without one. Runs after `mailsacKeyAuth`, which resolves the account. Over the
 * limit: 429 `{error, message}` with `Retry-After`.
 */
export function rateLimit(options: RateLimitOptions) {
  if (options.periodSeconds !== 10 && options.periodSeconds !== 60) {
    throw new Error('rateLimit: periodSeconds must be 10 or 60 (the binding supports no other)')
  }
  const retryAfter = String(options.periodSeconds)
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!rateLimitsOn(c.env)) return next()
    const account = c.get('account')
    const { success } = account
      ? await options.perAccount(c.env).limit({ key: `account:${account.id}` })
      : await options
          .perClient(c.env)
          .limit({ key: `ip:${clientNetwork(clientAddress(c.req, c.env))}` })
    if (!success) {
      // Set on the context so app.onError's `{error, message}` response carries it.
      c.header('Retry-After', retryAfter)
      if (!account) tooManyFromClient(retryAfter)
      fail(429, `Too many requests for this API key; retry in ${retryAfter} seconds.`)
    }
    return next()
  })
}
