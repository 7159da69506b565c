import { SMTPServer } from 'smtp-server'
import { cleartextLoginAllowed, isLoopback } from '../cleartext.js'
import {
  MAX_LOGIN_FAILURES,
  MAX_MESSAGE_BYTES,
  SHUTDOWN_GRACE_MS,
  SMTP_IDLE_TIMEOUT_MS,
  SMTP_MAX_COMMAND_BYTES,
  SUBMISSION_MAX_RECIPIENTS,
} from '../limits.js'
import { smtpLifecycle } from '../smtp/lifecycle.js'
import { smtpError, TOO_LARGE, workerRefusalReply } from '../smtp/replies.js'

/** @typedef {import('../config.js').BridgeConfig} BridgeConfig */
/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../log.js').Logger} Logger */

// RFC 4954 section 6's replies to AUTH, with their RFC 3463 enhanced codes.
const BAD_CREDENTIALS = { code: 535, enhanced: '5.7.8' }
const ENCRYPTION_REQUIRED = { code: 538, enhanced: '5.7.11' }
const AUTH_UNAVAILABLE = { code: 454, enhanced: '4.7.0' }
const AUTH_REQUIRED = { code: 530, enhanced: '5.7.0' }
const TOO_MANY_FAILURES = { code: 421, enhanced: '4.7.0' }

/**
 * Reads the DATA stream to its end; past the size limit the bytes are drained, not kept.
 * @param {import('node:stream').Readable & { sizeExceeded?: boolean }} stream
 * @returns {Promise<Buffer | null>} null when the message was too large
 */
async function readMessage(stream) {
  /** @type {Buffer[]} */
  const chunks = []
  let length = 0
  for await (const chunk of stream) {
    length += chunk.length
    if (length <= MAX_MESSAGE_BYTES) chunks.push(chunk)
  }
  return stream.sizeExceeded || length > MAX_MESSAGE_BYTES ? null : Buffer.concat(chunks)
}

/**
 * The submission listener (RFC 6409): clients log in with AUTH PLAIN or LOGIN, the username
 * being the account and the password its API key, and every message they submit goes to
 * `POST /api/outgoing-messages` as `raw` with the SMTP envelope. The Worker does the rest
 * (sender domain, credits, delivery); its refusal is the SMTP reply.
 *
 * @param {{ config: BridgeConfig, worker: WorkerClient, log: Logger }} deps
 */
export function createSubmissionServer({ config, worker, log }) {
  // A password in clear text is acceptable only where nobody else can listen: TLS, or a
  // client the cleartextLogin setting trusts (by default, one on this machine).
  if (!config.tls && config.cleartextLogin !== 'always' && !isLoopback(config.host)) {
    log.warn('submission: no TLS, so only loopback clients may log in', { host: config.host })
  }
  /** @type {WeakMap<object, number>} failed AUTH attempts per session */
  const authFailures = new WeakMap()

  const server = new SMTPServer({
    name: config.serverName,
    banner: 'Mailsac-compatible submission ready',
    ...(config.tls ? { key: config.tls.key, cert: config.tls.cert } : {}),
    // Without TLS smtp-server would fall back to its bundled self-signed certificate.
    disabledCommands: config.tls ? [] : ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    // Decided per connection below: smtp-server's own check only knows the whole server.
    allowInsecureAuth: true,
    size: MAX_MESSAGE_BYTES,
    maxRecipients: SUBMISSION_MAX_RECIPIENTS,
    maxCommandLength: SMTP_MAX_COMMAND_BYTES,
    socketTimeout: SMTP_IDLE_TIMEOUT_MS,
    closeTimeout: SHUTDOWN_GRACE_MS,
    disableReverseLookup: true,
    logger: false,

    onConnect(session, callback) {
      // A client that may not send its key in the clear is not offered AUTH until STARTTLS
      // (RFC 4954 section 4 lets a server hide it), so it never gets a 334 prompting for the
      // key; MAIL then answers 530. onSecure restores the server's commands.
      if (!cleartextLoginAllowed(config.cleartextLogin, session.remoteAddress)) {
        session.disabledCommands = config.tls ? ['AUTH'] : ['AUTH', 'STARTTLS']
      }
      callback()
    },

    onSecure(_socket, session, callback) {
      session.disabledCommands = undefined
      callback()
    },

    onMailFrom(_address, session, callback) {
      // With AUTH hidden for this session smtp-server no longer asks for it itself.
      if (!session.user) {
        const how = config.tls ? 'use STARTTLS, then AUTH' : 'not possible over cleartext here'
        return callback(smtpError(AUTH_REQUIRED, `Authentication required: ${how}`))
      }
      callback()
    },

    onAuth(auth, session, callback) {
      // Belt and braces: AUTH is hidden where the key may not travel in the clear.
      if (!session.secure && !cleartextLoginAllowed(config.cleartextLogin, session.remoteAddress)) {
        return callback(
          smtpError(ENCRYPTION_REQUIRED, 'Encryption required for requested authentication'),
        )
      }
      const username = auth.username ?? ''
      const apiKey = auth.password ?? ''
      worker.whoAmI(apiKey).then(
        (account) => {
          if (!account || account._id !== username) {
            const failures = (authFailures.get(session) ?? 0) + 1
            authFailures.set(session, failures)
            log.info('submission auth failed', {
              session: session.id,
              ip: session.remoteAddress,
              failures,
            })
            // Answered late, and the last failure allowed closes the connection (a 421), so
            // one connection can't try keys as fast as the Worker answers.
            const reply =
              failures >= MAX_LOGIN_FAILURES
                ? smtpError(TOO_MANY_FAILURES, 'Too many failed logins, closing connection')
                : smtpError(BAD_CREDENTIALS, 'Authentication failed: username or API key is wrong')
            setTimeout(() => callback(reply), config.loginFailureDelayMs)
            return
          }
          callback(null, { user: { username, apiKey } })
        },
        (err) => {
          log.warn('submission auth unavailable', { session: session.id, err })
          // RFC 4954 section 6: 454 is a temporary authentication failure.
          callback(smtpError(AUTH_UNAVAILABLE, 'Temporary authentication failure, try again later'))
        },
      )
    },

    onData(stream, session, callback) {
      const user = /** @type {{ username: string, apiKey: string }} */ (session.user)
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      }
      readMessage(stream)
        .then((raw) => {
          if (!raw) {
            throw smtpError(TOO_LARGE, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit`)
          }
          const signal = AbortSignal.timeout(config.workerTimeoutMs)
          return worker.sendOutgoing(user.apiKey, { raw, envelope }, signal)
        })
        .then(
          (result) => {
            const failed = result.recipients.filter((recipient) => !recipient.delivered)
            log.info('submission sent', {
              session: session.id,
              account: user.username,
              id: result._id,
              recipients: envelope.to.length,
              failed: failed.map((recipient) => recipient.address),
            })
            const note = failed.length
              ? `; not delivered to ${failed.map((recipient) => recipient.address).join(', ')}`
              : ''
            callback(null, `OK: sent as ${result._id} ${result.messageId}${note}`)
          },
          (err) => {
            const reply = err?.responseCode
              ? err
              : workerRefusalReply(err, 'Temporary failure, try again later')
            log.warn('submission refused', {
              session: session.id,
              account: user.username,
              code: reply.responseCode,
              reason: err instanceof Error ? err.message : String(err),
            })
            callback(reply)
          },
        )
    },
  })

  server.on('error', (err) => log.error('submission error', { err }))

  return smtpLifecycle(server)
}
