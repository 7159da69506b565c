import type { D1Migration } from 'cloudflare:test'

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[]
      /** 3 requests a minute: only for proving the 429 (vitest.config.mts). */
      TIGHT_RATE_LIMIT: RateLimit
    }
  }
}
