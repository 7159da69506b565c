/**
 * HTTP client for the Worker: the bridge holds no mail itself, every session is a view of it.
 */
import http from 'node:http'
import https from 'node:https'
import { randomUUID } from 'node:crypto'
import { multipartStream } from './multipart.js'

/** The Worker answered with a non-2xx status; `message` is the Worker's own text. */
export class WorkerResponseError extends Error {
  /**
   * @param {number} status
   * @param {string} error short code from the Worker's `{ error, message }` body
   * @param {string} message
   */
  constructor(status, error, message) {
    super(message)
    this.name = 'WorkerResponseError'
    this.status = status
    this.error = error
  }
}

/** The Worker could not be reached or did not answer in time: the caller should retry later. */
export class WorkerUnavailableError extends Error {
  /** @param {string} message @param {unknown} [cause] */
  constructor(message, cause) {
    super(message, { cause })
    this.name = 'WorkerUnavailableError'
  }
}

/**
 * @typedef {object} ListedMessage
 * @property {string} _id
 * @property {number} size raw byte length
 * @property {number} [crlfSize] the length with every bare LF counted as CRLF (pop3Octets), for
 *   POP3's LIST and STAT; not listed by the Worker yet, which makes those counts short for
 *   bare-LF mail until it is
 * @property {string} received ISO date
 */

/** @typedef {{ apiKey: string | null, clientIp?: string }} Caller */

// The shapes below are the Worker's JSON answers (its zod response schemas); the casts from
// `response.json()` trust them, since the Worker is the bridge's own peer behind a token.

/** @typedef {{ messages: { _id: string, inbox: string }[] }} IngestResult */

/**
 * An arrival's SMTP envelope as the Worker's ingest routes take it. The batch route reads the
 * JSON whole; the single-message route only from, to and ip (its query string).
 * @typedef {object} ArrivalEnvelope
 * @property {string} from MAIL FROM, '' for the null sender
 * @property {string[]} to RCPT TO, in order
 * @property {string} ip the SMTP client's address
 * @property {string} [key] idempotency key of the transaction (smtp/arrival-key.js)
 * @property {boolean} [maybeStored] an earlier attempt of it was answered 451 (smtp/unsettled.js)
 * @property {boolean} [tls] STARTTLS was active on the receiving hop
 * @property {string} [helo] the client's HELO/EHLO name
 */

/**
 * One message of a batch: stored, or refused with the status the single-message route would
 * have answered.
 * @typedef {IngestResult | { status: number, error: string, message: string }} IngestBatchResult
 */

/**
 * @typedef {object} OutgoingResult
 * @property {string} _id
 * @property {string} messageId
 * @property {{ address: string, delivered: boolean, error?: string }[]} recipients
 */

/**
 * @param {{ apiUrl: string, ingestToken: string, workerTimeoutMs: number }} options
 */
export function createWorkerClient({ apiUrl, ingestToken, workerTimeoutMs }) {
  const transport = apiUrl.startsWith('https:') ? https : http
  // RETR bodies go through node:http rather than fetch: a paused IncomingMessage stops
  // reading its socket at once, where a fetch body keeps its own queue of chunks and a web
  // stream per response; with hundreds of sessions streaming at once that is most of the
  // bridge's memory. Keep-alive saves a TCP handshake per RETR.
  const downloadAgent = new transport.Agent({ keepAlive: true, scheduling: 'lifo' })

  /**
   * GET whose body the caller streams; errors as `request` maps them.
   * @param {string} path
   * @param {Record<string, string>} headers
   * @param {AbortSignal} [signal]
   * @returns {Promise<import('node:http').IncomingMessage>}
   */
  function download(path, headers, signal) {
    return new Promise((resolve, reject) => {
      const get = transport.get(
        apiUrl + path,
        { agent: downloadAgent, headers, signal },
        (response) => {
          clearTimeout(timer)
          const status = response.statusCode ?? 0
          if (status >= 200 && status < 300) return resolve(response)
          readNodeErrorBody(response).then((body) => {
            reject(
              status >= 500
                ? new WorkerUnavailableError(`Worker answered ${status}: ${body.message}`)
                : new WorkerResponseError(status, body.error, body.message),
            )
          })
        },
      )
      // Only the wait for headers is timed: the body may take minutes through backpressure.
      const timer = setTimeout(
        () => get.destroy(new WorkerUnavailableError('Worker did not answer in time')),
        workerTimeoutMs,
      )
      get.on('error', (err) => {
        clearTimeout(timer)
        if (signal?.aborted) return reject(signal.reason)
        reject(
          err instanceof WorkerUnavailableError
            ? err
            : new WorkerUnavailableError(`Worker unreachable: ${causeMessage(err)}`, err),
        )
      })
    })
  }

  /**
   * @param {string} path
   * @param {RequestInit & { duplex?: 'half' }} init
   * @param {{ signal?: AbortSignal, headersTimeout?: boolean }} [options] `signal` aborts the
   *   request, body included, at any time; `headersTimeout: false` leaves timing to the caller
   */
  async function request(path, init, { signal, headersTimeout: timed = true } = {}) {
    // The timeout covers only the wait for response headers: a RETR body may legitimately
    // take minutes to reach a slow POP3 client through backpressure.
    const headersTimeout = new AbortController()
    const timer = timed
      ? setTimeout(
          () => headersTimeout.abort(new WorkerUnavailableError('Worker did not answer in time')),
          workerTimeoutMs,
        )
      : undefined
    const signals = signal ? [headersTimeout.signal, signal] : [headersTimeout.signal]
    let response
    try {
      response = await fetch(apiUrl + path, { ...init, signal: AbortSignal.any(signals) })
    } catch (err) {
      if (signal?.aborted && !(signal.reason instanceof WorkerUnavailableError)) {
        throw signal.reason
      }
      throw new WorkerUnavailableError(
        `Worker unreachable: ${causeMessage(headersTimeout.signal.reason ?? err)}`,
        err,
      )
    } finally {
      clearTimeout(timer)
    }
    if (response.ok) return response
    const body = await readErrorBody(response)
    if (response.status >= 500) {
      throw new WorkerUnavailableError(`Worker answered ${response.status}: ${body.message}`)
    }
    throw new WorkerResponseError(response.status, body.error, body.message)
  }

  /**
   * Who a REST call is made for: the session's key, if any, and the POP3 client's address.
   * The Worker counts anonymous requests per client address; the bridge's token vouches for
   * the address it names, since every request comes from the bridge's own.
   * @param {Caller} caller
   */
  const callerHeaders = ({ apiKey, clientIp }) => ({
    ...(apiKey ? { 'Mailsac-Key': apiKey } : {}),
    ...(clientIp ? { 'X-Bridge-Token': ingestToken, 'X-Bridge-Client-IP': clientIp } : {}),
  })

  return {
    /**
     * Posts one complete arrival to `/internal/ingest`; the Worker stores a copy per recipient.
     * @param {ArrivalEnvelope} envelope
     * @param {{ body: Buffer | AsyncIterable<Uint8Array>, length: number }} message raw bytes;
     *   the exact Content-Length makes an upload cut short an error instead of a shorter message
     * @param {AbortSignal} signal the caller times the upload, which may be long for 25 MiB
     * @returns {Promise<IngestResult>}
     */
    async uploadArrival(envelope, message, signal) {
      // The envelope goes in the body, never the URL: Workers limit URLs to 16 KB, and a
      // hundred recipients may not fit. The multipart body is streamed around the message
      // (which may be a 25 MiB spool file) with its exact length.
      const boundary = `arrival-${randomUUID()}`
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="envelope"\r\n\r\n` +
          `${JSON.stringify(envelope)}\r\n--${boundary}\r\n` +
          'Content-Disposition: form-data; name="message"; filename="message.eml"\r\n' +
          'Content-Type: message/rfc822\r\n\r\n',
      )
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
      const response = await request(
        '/internal/ingest',
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ingestToken}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(head.length + message.length + tail.length),
          },
          body: multipartStream(head, message.body, tail),
          duplex: 'half',
        },
        { signal, headersTimeout: false },
      ).catch(ownTokenRefused)
      return /** @type {IngestResult} */ (await response.json())
    },

    /**
     * Posts several complete arrivals in one `/internal/ingest/batch` request; answers per
     * arrival, in order: `{ messages }` when stored, `{ status, error, message }` when refused.
     * @param {{ envelope: ArrivalEnvelope, raw: Buffer }[]} items
     * @param {AbortSignal} signal
     * @returns {Promise<IngestBatchResult[]>}
     */
    async uploadArrivals(items, signal) {
      // One Buffer, written here, rather than a FormData of Blobs: undici turns a FormData
      // into a web stream of Blob parts, which cost the bridge more CPU per message than
      // smtp-server's parsing (#18 profile). The Worker reads the same multipart/form-data.
      const boundary = `batch-${randomUUID()}`
      const parts = []
      for (const { envelope, raw } of items) {
        parts.push(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="envelope"\r\n\r\n` +
              `${JSON.stringify(envelope)}\r\n--${boundary}\r\n` +
              'Content-Disposition: form-data; name="message"; filename="message.eml"\r\n' +
              'Content-Type: message/rfc822\r\n\r\n',
          ),
          raw,
          Buffer.from('\r\n'),
        )
      }
      parts.push(Buffer.from(`--${boundary}--\r\n`))
      const response = await request(
        '/internal/ingest/batch',
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ingestToken}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
          },
          body: Buffer.concat(parts),
        },
        { signal },
      ).catch(ownTokenRefused)
      return /** @type {{ results: IngestBatchResult[] }} */ (await response.json()).results
    },

    /**
     * The account an API key belongs to (`GET /api/me`), or null when the key matches none.
     * @param {string} apiKey
     * @returns {Promise<{ _id: string } | null>}
     */
    async whoAmI(apiKey) {
      const response = await request('/api/me', { headers: { 'Mailsac-Key': apiKey } })
      return /** @type {{ _id: string } | null} */ (await response.json())
    },

    /**
     * Sends a message for the account owning `apiKey` (`POST /api/outgoing-messages` with
     * `raw`): the Worker checks the sender domain, spends the credits and delivers.
     * @param {string} apiKey
     * @param {{ raw: Buffer, envelope: { from: string, to: string[] } }} message
     * @param {AbortSignal} [signal]
     * @returns {Promise<OutgoingResult>}
     */
    async sendOutgoing(apiKey, { raw, envelope }, signal) {
      const response = await request(
        '/api/outgoing-messages',
        {
          method: 'POST',
          headers: { 'Mailsac-Key': apiKey, 'content-type': 'application/json' },
          // base64: SMTP carries 8-bit mail that need not be UTF-8, and JSON strings cannot
          // hold arbitrary bytes.
          body: JSON.stringify({ raw: raw.toString('base64'), rawEncoding: 'base64', envelope }),
        },
        { signal },
      )
      return /** @type {OutgoingResult} */ (await response.json())
    },

    /**
     * One page of an inbox, newest first.
     * @param {string} email
     * @param {Caller} caller
     * @param {{ limit: number, until?: string }} page
     * @returns {Promise<ListedMessage[]>}
     */
    async listMessages(email, caller, { limit, until }) {
      const query = new URLSearchParams({ limit: String(limit) })
      if (until) query.set('until', until)
      const response = await request(`/api/addresses/${pathSegment(email)}/messages?${query}`, {
        headers: callerHeaders(caller),
      })
      return /** @type {ListedMessage[]} */ (await response.json())
    },

    /**
     * The raw message exactly as stored, as a readable stream: iterate it, and leave the loop
     * (or destroy it) to stop the download.
     * @param {string} email
     * @param {string} messageId
     * @param {Caller} caller
     * @param {AbortSignal} [signal]
     */
    async fetchRaw(email, messageId, caller, signal) {
      return download(
        `/api/raw/${pathSegment(email)}/${pathSegment(messageId)}`,
        callerHeaders(caller),
        signal,
      )
    },

    /**
     * @param {string} email
     * @param {string} messageId
     * @param {Caller} caller
     */
    async deleteMessage(email, messageId, caller) {
      const response = await request(
        `/api/addresses/${pathSegment(email)}/messages/${pathSegment(messageId)}`,
        { method: 'DELETE', headers: callerHeaders(caller) },
      )
      await response.body?.cancel()
    },
  }
}

/** @typedef {ReturnType<typeof createWorkerClient>} WorkerClient */

/**
 * `@` stays literal: it is legal in a path segment and keeps Worker logs readable.
 * @param {string} value
 */
function pathSegment(value) {
  return encodeURIComponent(value).replace(/%40/g, '@')
}

/** @param {Response} response @returns {Promise<{ error: string, message: string }>} */
async function readErrorBody(response) {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text)
    return {
      error: String(body.error ?? response.status),
      message: String(body.message ?? body.error ?? response.statusText),
    }
  } catch {
    return { error: String(response.status), message: text.slice(0, 200) || response.statusText }
  }
}

/**
 * `readErrorBody` for a node:http response; reads at most a few KB of it.
 * @param {import('node:http').IncomingMessage} response
 * @returns {Promise<{ error: string, message: string }>}
 */
async function readNodeErrorBody(response) {
  let text = ''
  try {
    for await (const chunk of response) {
      text += chunk
      if (text.length > 4096) break
    }
  } catch {
    // a body cut short still leaves the status to report
  }
  const status = response.statusCode ?? 0
  try {
    const body = JSON.parse(text)
    return {
      error: String(body.error ?? status),
      message: String(body.message ?? body.error ?? response.statusMessage),
    }
  } catch {
    return { error: String(status), message: text.slice(0, 200) || String(response.statusMessage) }
  }
}

/**
 * The ingest routes answer 401 when the bridge's own INGEST_TOKEN is wrong: an operator's
 * mistake, not a verdict on the message, so the sender is asked to retry later.
 * @param {unknown} err
 * @returns {never}
 */
function ownTokenRefused(err) {
  if (err instanceof WorkerResponseError && err.status === 401) {
    throw new WorkerUnavailableError(`Worker refused the ingest token: ${err.message}`, err)
  }
  throw err
}

/** @param {unknown} err */
function causeMessage(err) {
  if (err instanceof Error) {
    const { cause } = err
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message
  }
  return String(err)
}
