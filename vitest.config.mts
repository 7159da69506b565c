import { existsSync } from 'node:fs'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        // The Worker's tests run inside workerd with real D1 and R2 (isolated per test file).
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ADMIN_TOKEN: 'test-admin-token',
                INGEST_TOKEN: 'test-ingest-token',
                // Tests never reach the network: DNS-over-HTTPS goes to a closed local port
                // unless a test stubs fetch (test/mail/dns.test.ts, test/routes/validations/).
                DOH_ENDPOINT: 'http://127.0.0.1:9/dns-query',
                TEST_MIGRATIONS: await readD1Migrations('./migrations'),
              },
              ratelimits: {
                // Every test file is one client making hundreds of requests: the real
                // limits are lifted here, and test/http/rate-limit.test.ts proves the 429
                // with TIGHT_RATE_LIMIT swapped in.
                API_KEY_RATE_LIMIT: { simple: { limit: 1_000_000, period: 60 } },
                ANONYMOUS_RATE_LIMIT: { simple: { limit: 1_000_000, period: 60 } },
                TIGHT_RATE_LIMIT: { simple: { limit: 3, period: 60 } },
              },
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/**/*.test.ts'],
          setupFiles: ['./test/apply-migrations.ts'],
        },
      },
      {
        // The client package: plain Node, a stubbed fetch (test/web drives it against the stack).
        test: { name: 'client', include: ['client/test/**/*.test.ts'], environment: 'node' },
      },
      ...(existsSync('./bridge/vitest.config.mts') ? ['./bridge/vitest.config.mts'] : []),
      './test/web/vitest.config.mts',
    ],
  },
})
