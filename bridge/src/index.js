import { loadConfig } from './config.js'
import { SHUTDOWN_GRACE_MS } from './limits.js'
import { createLogger } from './log.js'
import { createPop3Server } from './pop3/server.js'
import { createSmtpServer } from './smtp/server.js'
import { createSubmissionServer } from './submission/server.js'
import { createWorkerClient } from './worker-client.js'

let config
try {
  config = loadConfig()
} catch (err) {
  console.error(`bridge: ${err instanceof Error ? err.message : err}`)
  process.exit(1)
}

const log = createLogger(config.logLevel, { service: 'bridge' })
const worker = createWorkerClient(config)
const smtp = createSmtpServer({ config, worker, log })
const pop3 = createPop3Server({ config, worker, log })
const submission = createSubmissionServer({ config, worker, log })

try {
  const smtpPort = await smtp.listen(config.smtpPort, config.host)
  const pop3Ports = await pop3.listen({
    port: config.pop3Port,
    tlsPort: config.pop3sPort,
    host: config.host,
  })
  const submissionPort = await submission.listen(config.submissionPort, config.host)
  log.info('bridge listening', {
    host: config.host,
    smtp: smtpPort,
    pop3: pop3Ports.port,
    pop3s: pop3Ports.tlsPort,
    submission: submissionPort,
    tls: Boolean(config.tls),
    api: config.apiUrl,
  })
} catch (err) {
  log.error('bridge failed to start', { err })
  process.exit(1)
}

let stopping = false
/** @param {NodeJS.Signals} signal */
async function shutdown(signal) {
  if (stopping) {
    // A second signal means the operator won't wait for the grace period.
    log.warn('bridge forced exit', { signal })
    process.exit(1)
  }
  stopping = true
  log.info('bridge shutting down', { signal, graceMs: SHUTDOWN_GRACE_MS })
  // smtp-server's own timer and ours both run to the grace period; this one is the backstop.
  const backstop = setTimeout(() => {
    log.warn('bridge shutdown timed out')
    process.exit(1)
  }, SHUTDOWN_GRACE_MS + 2000)
  backstop.unref()
  await Promise.all([smtp.close(), pop3.close(), submission.close()])
  log.info('bridge stopped')
  process.exit(0)
}

process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
