import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Referenced from the root vitest.config.mts (test.projects); paths resolve against bridge/.
export default defineConfig({
  test: {
    name: 'bridge',
    root: fileURLToPath(new URL('.', import.meta.url)),
    environment: 'node',
    include: ['test/**/*.test.js'],
    globalSetup: ['test/global-setup.js'],
    // One wrangler dev and one bridge serve every file; files run one after another so the
    // 10 MB and shutdown tests don't compete with the rest for the two CPU cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
})
