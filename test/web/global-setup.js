import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyMigrations, freePort, repoRoot, startWorker } from '../../bridge/test/stack.js'

/** Screenshots for a reviewer to look at; ignored by git. */
export const SCREENSHOTS = join(repoRoot, 'test-results', 'screenshots')

/** @param {import('vitest/node').TestProject} project */
export default async function setup(project) {
  const dir = mkdtempSync(join(tmpdir(), 'web-test-'))
  const persistTo = join(dir, 'state')
  const adminToken = randomBytes(24).toString('hex')
  const ingestToken = randomBytes(24).toString('hex')
  applyMigrations(persistTo)
  const worker = await startWorker({
    persistTo,
    port: await freePort(),
    adminToken,
    ingestToken,
    logFile: join(dir, 'wrangler.log'),
  })
  mkdirSync(SCREENSHOTS, { recursive: true })
  project.provide('web', { url: worker.url, adminToken, ingestToken, screenshots: SCREENSHOTS })
  return async () => {
    await worker.stop()
    if (!process.env.KEEP_WEB_TEST_DIR) rmSync(dir, { recursive: true, force: true })
  }
}
