import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The web pages in a real browser (Debian's chromium driven by playwright-core) against a real
// `wrangler dev`. Referenced from the root vitest.config.mts (test.projects).
export default defineConfig({
  test: {
    name: 'web',
    root: fileURLToPath(new URL('.', import.meta.url)),
    environment: 'node',
    include: ['**/*.test.js'],
    globalSetup: ['global-setup.js'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
})
