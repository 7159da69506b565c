import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyMigrations, freePort, makeCertificate, startBridge, startWorker } from './stack.js'

/** Every test inbox lives here; mail for other domains is refused by the Worker. */
export const ACCEPTED_DOMAIN = 'bridge-test.example'

/** @param {import('vitest/node').TestProject} project */
export default async function setup(project) {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-test-'))
  const persistTo = join(dir, 'state')
  const adminToken = randomBytes(24).toString('hex')
  const ingestToken = randomBytes(24).toString('hex')
  const tls = makeCertificate(dir)

  applyMigrations(persistTo)
  const worker = await startWorker({
    persistTo,
    port: await freePort(),
    adminToken,
    ingestToken,
    logFile: join(dir, 'wrangler.log'),
    // A real domain policy, so the tests can show a Worker refusal (403) reaching the SMTP client.
    acceptedDomains: ACCEPTED_DOMAIN,
  })

  const ports = {
    smtp: await freePort(),
    pop3: await freePort(),
    pop3s: await freePort(),
    submission: await freePort(),
  }
  let bridge
  try {
    bridge = await startBridge(
      {
        BRIDGE_API_URL: worker.url,
        INGEST_TOKEN: ingestToken,
        SMTP_PORT: String(ports.smtp),
        POP3_PORT: String(ports.pop3),
        POP3S_PORT: String(ports.pop3s),
        SUBMISSION_PORT: String(ports.submission),
        TLS_CERT: tls.cert,
        TLS_KEY: tls.key,
        // Failed logins are answered 1 s late in production; the tests fail plenty of them.
        LOGIN_FAILURE_DELAY_MS: '100',
      },
      join(dir, 'bridge.log'),
    )
  } catch (err) {
    await worker.stop()
    throw err
  }

  project.provide('stack', {
    dir,
    apiUrl: worker.url,
    adminToken,
    ingestToken,
    tlsCert: tls.cert,
    tlsKey: tls.key,
    smtpPort: ports.smtp,
    pop3Port: ports.pop3,
    pop3sPort: ports.pop3s,
    submissionPort: ports.submission,
    bridgePid: bridge.pid,
  })

  return async () => {
    await bridge.stop()
    await worker.stop()
    if (!process.env.KEEP_BRIDGE_TEST_DIR) rmSync(dir, { recursive: true, force: true })
  }
}
