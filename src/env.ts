import type { Account } from './db/queries/accounts'

/** Hono environment of the Worker: bindings from wrangler.toml and per-request state. */
export type AppEnv = {
  Bindings: Env
  Variables: {
    /** The account whose API key came with the request, or null for an anonymous request. */
    account: Account | null
    /** The CSRF token of the request's web session, when a session cookie authenticated it. */
    csrfToken?: string
  }
}
