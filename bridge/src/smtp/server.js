import { SMTPServer } from 'smtp-server'
import {
  MAX_MESSAGE_BYTES,
  MAX_RECIPIENTS,
  SHUTDOWN_GRACE_MS,
  SMTP_IDLE_TIMEOUT_MS,
  SPOOL_MEMORY_BYTES,
  SMTP_MAX_COMMAND_BYTES,
} from '../limits.js'
import { ArrivalBatcher } from './batcher.js'
import { createFaults } from './faults.js'
import { postArrival, transactionId } from './receiver.js'
import { storedReply, workerRefusalReply } from './replies.js'
import { smtpLifecycle } from './lifecycle.js'

/** @typedef {import('../config.js').BridgeConfig} BridgeConfig */
/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../log.js').Logger} Logger */

/**
 * The ingest listener: accepts mail for any recipient and hands each complete message to the
 * Worker, answering 250 only once the Worker has stored it. Until then the sender still holds
 * the message, so a failure here loses nothing: the sender retries after a 451.
 *
 * @param {{ config: BridgeConfig, worker: WorkerClient, log: Logger }} deps
 */
export function createSmtpServer({ config, worker, log }) {
  // smtp-server falls back to a bundled self-signed certificate when none is given, which would
  // advertise a STARTTLS nobody configured; without TLS the command is disabled instead.
  const disabledCommands = config.tls ? ['AUTH'] : ['AUTH', 'STARTTLS']
  const batcher = new ArrivalBatcher(worker, {
    timeoutMs: config.workerTimeoutMs,
    maxMessages: config.ingestBatchMessages,
    // smtp-server's own set of open connections (called only once the server exists).
    openSessions: () => server.connections.size,
  })
  const faults = createFaults(config, log)

  const server = new SMTPServer({
    name: config.serverName,
    banner: 'Mailsac-compatible ingest ready',
    ...(config.tls ? { key: config.tls.key, cert: config.tls.cert } : {}),
    // This port only receives mail for local inboxes, like an MX: there is nobody to log in as.
    authOptional: true,
    disabledCommands,
    size: MAX_MESSAGE_BYTES,
    rejectOversized: true,
    maxRecipients: MAX_RECIPIENTS,
    maxCommandLength: SMTP_MAX_COMMAND_BYTES,
    socketTimeout: SMTP_IDLE_TIMEOUT_MS,
    closeTimeout: SHUTDOWN_GRACE_MS,
    // The Worker records the client IP; a PTR lookup per connection would only add latency.
    disableReverseLookup: true,
    logger: false,

    ...faults.hooks,

    onConnect(session, callback) {
      log.debug('smtp connect', { session: session.id, ip: session.remoteAddress })
      callback()
    },

    onData(stream, session, callback) {
      postArrival(worker, stream, session, {
        spoolMemoryBytes: SPOOL_MEMORY_BYTES,
        spoolDir: config.spoolDir,
        workerTimeoutMs: config.workerTimeoutMs,
        batcher,
        hostname: config.serverName,
        faults,
      }).then(
        (ids) => {
          log.info('smtp stored', {
            session: session.id,
            transaction: transactionId(session),
            ip: session.remoteAddress,
            recipients: session.envelope.rcptTo.length,
            bytes: stream.byteLength,
            ids,
          })
          callback(null, storedReply(ids))
        },
        (err) => {
          // The receiver's own refusals (too large) already carry their reply.
          const reply = err?.responseCode ? err : workerRefusalReply(err)
          log.warn('smtp refused', {
            session: session.id,
            ip: session.remoteAddress,
            code: reply.responseCode,
            reason: err instanceof Error ? err.message : String(err),
          })
          callback(reply)
        },
      )
    },
  })

  server.on('error', (err) => log.error('smtp error', { err }))

  return smtpLifecycle(server)
}
