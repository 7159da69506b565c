import { readFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { CLEARTEXT_LOGIN_MODES } from './cleartext.js'
import {
  INGEST_BATCH_MAX_MESSAGES,
  LOGIN_FAILURE_DELAY_MS,
  POP3_LOGIN_TIMEOUT_MS,
  WORKER_TIMEOUT_MS,
} from './limits.js'

/**
 * @typedef {object} BridgeConfig
 * @property {string} host address both listeners bind to
 * @property {number} smtpPort
 * @property {number} submissionPort authenticated submission (POST /api/outgoing-messages)
 * @property {number} pop3Port
 * @property {number | null} pop3sPort implicit-TLS POP3, null without TLS
 * @property {string} apiUrl base URL of the Worker, without a trailing slash
 * @property {string} ingestToken bearer token for POST /internal/ingest
 * @property {{ cert: Buffer, key: Buffer } | null} tls
 * @property {boolean} pop3PublicLogin whether public inboxes open with any password
 * @property {number} workerTimeoutMs
 * @property {string} spoolDir where SMTP messages too big for memory wait for their end of DATA
 * @property {string} serverName name announced in greetings
 * @property {'debug' | 'info' | 'warn' | 'error'} logLevel
 * @property {import('./cleartext.js').CleartextLogin} cleartextLogin where a key may be sent
 *   without TLS (POP3 and submission)
 * @property {number} loginFailureDelayMs how long a failed login waits for its answer
 * @property {number} pop3LoginTimeoutMs autologout before a POP3 session has logged in
 * @property {number} ingestBatchMessages messages per /internal/ingest/batch request, 1 to
 *   INGEST_BATCH_MAX_MESSAGES (Workers Free: 1, see the README's "Running on Cloudflare")
 */

// `npm run bridge` runs from bridge/ and `npm start` from the root, so the root's .dev.vars is found
// relative to this file rather than the working directory.
const DEV_VARS_PATH = fileURLToPath(new URL('../../.dev.vars', import.meta.url))

/**
 * Parses wrangler's .dev.vars (dotenv syntax: KEY=VALUE, optional quotes, # comments).
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseDevVars(text) {
  /** @type {Record<string, string>} */
  const vars = {}
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (!line || line.startsWith('#')) continue
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!match) continue
    let value = match[2]
    const quote = value[0]
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1)
    } else {
      value = value.replace(/\s+#.*$/, '')
    }
    vars[match[1]] = value
  }
  return vars
}

/**
 * @param {string | undefined} value
 * @param {number} fallback
 * @param {string} name
 */
function parsePort(value, fallback, name) {
  if (value === undefined || value === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number, got "${value}"`)
  }
  return port
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 */
function parseMs(env, name, fallback, min) {
  const value = env[name]
  if (value === undefined || value === '') return fallback
  const ms = Number(value)
  if (!Number.isFinite(ms) || ms < min) {
    throw new Error(`${name} must be a number of milliseconds >= ${min}, got "${value}"`)
  }
  return ms
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @param {string} name
 * @param {number} fallback
 * @param {number} max
 */
function parseCount(env, name, fallback, max) {
  const value = env[name]
  if (value === undefined || value === '') return fallback
  const count = Number(value)
  if (!Number.isInteger(count) || count < 1 || count > max) {
    throw new Error(`${name} must be a whole number from 1 to ${max}, got "${value}"`)
  }
  return count
}

/**
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {BridgeConfig}
 */
export function loadConfig(env = process.env) {
  let ingestToken = env.INGEST_TOKEN
  if (!ingestToken) {
    try {
      ingestToken = parseDevVars(readFileSync(DEV_VARS_PATH, 'utf8')).INGEST_TOKEN
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT') throw err
    }
  }
  if (!ingestToken) {
    // Without it every ingest would be refused with 401, which the SMTP side turns into endless
    // 451 retries: better to refuse to start than to look healthy and store nothing.
    throw new Error('INGEST_TOKEN is not set (environment or .dev.vars)')
  }

  if (Boolean(env.TLS_CERT) !== Boolean(env.TLS_KEY)) {
    throw new Error('TLS_CERT and TLS_KEY must be set together')
  }
  const tls =
    env.TLS_CERT && env.TLS_KEY
      ? { cert: readFileSync(env.TLS_CERT), key: readFileSync(env.TLS_KEY) }
      : null

  const logLevel = env.LOG_LEVEL ?? 'info'
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`)
  }

  const workerTimeoutMs = parseMs(env, 'WORKER_TIMEOUT_MS', WORKER_TIMEOUT_MS, 1)
  const loginFailureDelayMs = parseMs(env, 'LOGIN_FAILURE_DELAY_MS', LOGIN_FAILURE_DELAY_MS, 0)
  const pop3LoginTimeoutMs = parseMs(env, 'POP3_LOGIN_TIMEOUT_MS', POP3_LOGIN_TIMEOUT_MS, 1)
  const ingestBatchMessages = parseCount(
    env,
    'INGEST_BATCH_MESSAGES',
    INGEST_BATCH_MAX_MESSAGES,
    INGEST_BATCH_MAX_MESSAGES,
  )

  const cleartextLogin = env.CLEARTEXT_LOGIN || 'loopback'
  if (!(/** @type {readonly string[]} */ (CLEARTEXT_LOGIN_MODES).includes(cleartextLogin))) {
    throw new Error(`CLEARTEXT_LOGIN must be loopback, never or always, got "${cleartextLogin}"`)
  }

  return {
    host: env.BRIDGE_HOST || '127.0.0.1',
    smtpPort: parsePort(env.SMTP_PORT, 2525, 'SMTP_PORT'),
    submissionPort: parsePort(env.SUBMISSION_PORT, 2587, 'SUBMISSION_PORT'),
    pop3Port: parsePort(env.POP3_PORT, 1110, 'POP3_PORT'),
    pop3sPort: tls ? parsePort(env.POP3S_PORT, 1995, 'POP3S_PORT') : null,
    apiUrl: new URL(env.BRIDGE_API_URL || 'http://127.0.0.1:8787').href.replace(/\/+$/, ''),
    ingestToken,
    tls,
    pop3PublicLogin: env.POP3_PUBLIC_LOGIN !== 'false',
    workerTimeoutMs,
    spoolDir: env.SPOOL_DIR || tmpdir(),
    serverName: env.BRIDGE_HOSTNAME || hostname(),
    logLevel: /** @type {BridgeConfig['logLevel']} */ (logLevel),
    cleartextLogin: /** @type {BridgeConfig['cleartextLogin']} */ (cleartextLogin),
    loginFailureDelayMs,
    pop3LoginTimeoutMs,
    ingestBatchMessages,
  }
}
