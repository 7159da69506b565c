import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import { database } from '../db/client'
import { findAccountByApiKey } from '../db/queries/accounts'
import { createSession, findSession, SESSION_TTL_MS } from '../db/queries/sessions'
import { fail } from './errors'
import type { AppEnv } from '../env'
import { sameSecret } from '../lib/secrets'

/** Reads `_mailsacKey` from a JSON body without consuming it for the handler. */
async function keyFromJsonBody(request: Request): Promise<string | undefined> {
  if (request.method !== 'POST' && request.method !== 'PUT') return undefined
  if (!request.headers.get('content-type')?.includes('application/json')) return undefined
  try {
    const body: unknown = await request.clone().json()
    if (body && typeof body === 'object' && '_mailsacKey' in body) {
      const key = (body as { _mailsacKey: unknown })._mailsacKey
      return typeof key === 'string' ? key : undefined
    }
  } catch {
    // A malformed body is the handler's to reject; here it just carries no key.
  }
  return undefined
}

/** The cookie of a web session (POST /api/auth/login). */
export const SESSION_COOKIE = 'mailsac_session'

/** The live web session the request's cookie names, with its account; null without one. */
export async function sessionFromCookie(c: Context<AppEnv>) {
  const token = getCookie(c, SESSION_COOKIE)
  return token ? findSession(database(c.env.DB), token) : null
}

/** Browsers drop Secure cookies on plain http, which is what local development uses. */
function isLocalHost(url: string): boolean {
  const host = new URL(url).hostname
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]'
}

/** Opens a web session for the account and sets its cookie; returns the session's CSRF token. */
export async function openWebSession(c: Context<AppEnv>, accountId: string): Promise<string> {
  const session = await createSession(database(c.env.DB), accountId)
  setCookie(c, SESSION_COOKIE, session.token, {
    httpOnly: true,
    secure: !isLocalHost(c.req.url),
    sameSite: 'Lax',
    path: '/',
    maxAge: SESSION_TTL_MS / 1000,
  })
  return session.csrfToken
}

/** The header a cookie-authenticated state-changing request must carry (CSRF defence). */
export const CSRF_HEADER = 'X-CSRF-Token'

/**
 * Resolves the caller's account from the three places Mailsac accepts a key: the
 * `Mailsac-Key` header, the `_mailsacKey` query parameter, the `_mailsacKey` JSON body field;
 * without a key, from the web session cookie. A key that matches no account is a 401
 * (Mailsac: "Your API key is wrong"), unless `lenient` is set, as for `GET /api/me` which
 * answers `null` instead. A cookie-authenticated request that changes state must carry the
 * session's CSRF token in `X-CSRF-Token`: a cross-site form can send the cookie but cannot
 * read or set that header.
 */
export function mailsacKeyAuth(
  options: {
    lenient?: (path: string) => boolean
    /** Called before a wrong key's 401, to count it (e.g. against the client's rate limit). */
    onWrongKey?: (c: Context<AppEnv>) => Promise<void>
  } = {},
) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const apiKey =
      c.req.header('mailsac-key') ??
      c.req.query('_mailsacKey') ??
      (await keyFromJsonBody(c.req.raw))
    if (!apiKey) {
      const session = await sessionFromCookie(c)
      const safe = c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS'
      if (
        session &&
        !safe &&
        !sameSecret(c.req.header(CSRF_HEADER) ?? '', session.session.csrfToken)
      ) {
        fail(403, `Cookie-authenticated requests that change state need the ${CSRF_HEADER} header.`)
      }
      c.set('account', session?.account ?? null)
      if (session) c.set('csrfToken', session.session.csrfToken)
      else if (keyRequired(c.env) && !KEYLESS_PATHS.has(c.req.path)) fail(401, KEY_REQUIRED)
      return next()
    }
    const account = await findAccountByApiKey(database(c.env.DB), apiKey.trim())
    if (!account && !options.lenient?.(c.req.path)) {
      await options.onWrongKey?.(c)
      fail(401, 'The API key is not valid.')
    }
    c.set('account', account)
    return next()
  })
}

/**
 * `REQUIRE_API_KEY = "true"`: every /api route and the websocket need a key (or a web
 * session), as Mailsac itself now requires. Off by default, so public inboxes stay keyless.
 */
export function keyRequired(env: { REQUIRE_API_KEY?: string }): boolean {
  return env.REQUIRE_API_KEY === 'true'
}

export const KEY_REQUIRED = 'This service requires an API key on every request (REQUIRE_API_KEY).'

/** What stays open without a key: the API reference, so a client can learn how to get one. */
const KEYLESS_PATHS = new Set(['/api/openapi.json'])

/** Guards `/internal/*` routes with a bearer token from the environment, compared in constant time. */
export function bearerToken(secretName: 'ADMIN_TOKEN' | 'INGEST_TOKEN') {
  return createMiddleware<AppEnv>(async (c, next) => {
    const expected = c.env[secretName]
    if (!expected) fail(503, `${secretName} is not configured on this Worker.`)
    const given = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? ''
    const [a, b] = await Promise.all(
      [given, expected].map((value) =>
        crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)),
      ),
    )
    if (!crypto.subtle.timingSafeEqual(a, b)) fail(401, 'Missing or wrong bearer token.')
    return next()
  })
}

/** The caller's account, or a 401 for anonymous requests. */
export function requireAccount(account: AppEnv['Variables']['account']) {
  if (!account) fail(401, 'This route needs an API key (Mailsac-Key header or _mailsacKey).')
  return account
}

/**
 * Route middleware for account-only routes: a 401 before anything else, so a caller without
 * a key learns that first rather than a validation error about its request.
 */
export const accountOnly = createMiddleware<AppEnv>(async (c, next) => {
  requireAccount(c.get('account'))
  return next()
})
