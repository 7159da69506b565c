import { arrivalKeyHash } from './arrival-key.js'
import { domainOf } from './faults.js'
import { UnsettledArrivals } from './unsettled.js'
import { smtpError, TOO_LARGE } from './replies.js'
import { MessageSpool } from './spool.js'
import { receivedHeader } from './trace.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('smtp-server').SMTPServerDataStream} SMTPServerDataStream */
/** @typedef {import('smtp-server').SMTPServerSession} SMTPServerSession */

/**
 * @typedef {object} ArrivalOptions
 * @property {number} spoolMemoryBytes messages up to this size stay in memory
 * @property {string} spoolDir where larger ones wait for their end of DATA
 * @property {number} workerTimeoutMs longest silence allowed from the Worker upload
 * @property {import('./batcher.js').ArrivalBatcher} [batcher] groups small messages into batches
 * @property {string} hostname this host, as the Received header names it
 * @property {import('./faults.js').Faults} [faults] the operator's injected faults (#17.6)
 */

/**
 * Receives one arrival (an SMTP transaction's envelope and DATA body) and posts it to the
 * Worker once complete, with a Received header (RFC 5321 4.4) in front of the bytes exactly as
 * sent; resolves with the stored message ids. The SMTP stream is always read to its end, even
 * past the size limit: smtp-server replies only after the end of DATA.
 *
 * @param {WorkerClient} worker
 * @param {SMTPServerDataStream} source
 * @param {SMTPServerSession} session
 * @param {ArrivalOptions} options
 * @returns {Promise<string[]>}
 */
export async function postArrival(worker, source, session, options) {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
  const to = session.envelope.rcptTo.map((rcpt) => rcpt.address)
  const tls = Boolean(session.secure)
  const helo = session.hostNameAppearsAs || ''
  const key = arrivalKeyHash(from, to)
  const spool = new MessageSpool({ memoryLimit: options.spoolMemoryBytes, dir: options.spoolDir })
  try {
    const trace = receivedHeader({
      helo,
      ip: session.remoteAddress,
      by: options.hostname,
      protocol: session.openingCommand === 'EHLO' ? (tls ? 'ESMTPS' : 'ESMTP') : 'SMTP',
      id: transactionId(session),
      recipients: to,
      date: new Date(),
    })
    await spool.write(Buffer.from(trace, 'utf8'))
    for await (const chunk of source) {
      // Past the limit the rest is read and dropped: smtp-server answers 552 (rejectOversized).
      if (source.sizeExceeded) continue
      key.update(chunk)
      await spool.write(chunk)
    }
    if (source.sizeExceeded)
      throw smtpError(TOO_LARGE, 'Message exceeds fixed maximum message size')
    // An injected DATA fault answers once the body is read, as a real refusal would: never stored.
    const fault = await options.faults?.check('data', to.map(domainOf))
    if (fault) throw fault
    const digest = key.digest('hex')
    const maybeStored = unsettled.has(digest)
    /** @type {import('../worker-client.js').ArrivalEnvelope} */
    const envelope = { from, to, ip: session.remoteAddress, key: digest, maybeStored, tls, helo }
    try {
      const ids = await upload(worker, envelope, spool, options)
      unsettled.settle(digest)
      return ids
    } catch (error) {
      // A temporary failure may hide a stored message (the Worker finished after we gave
      // up): its retry must not store it twice.
      const code = /** @type {{ responseCode?: number }} */ (error).responseCode
      if (code === undefined || code < 500) unsettled.add(digest)
      throw error
    }
  } finally {
    await spool.dispose()
  }
}

/**
 * Sends the spooled arrival to the Worker: small ones (the usual case) through the batcher,
 * large ones streamed on their own.
 * @param {WorkerClient} worker
 * @param {import('../worker-client.js').ArrivalEnvelope} envelope
 * @param {MessageSpool} spool
 * @param {ArrivalOptions} options
 * @returns {Promise<string[]>}
 */
async function upload(worker, envelope, spool, options) {
  const body = await spool.body()
  if (Buffer.isBuffer(body) && options.batcher) return options.batcher.submit(envelope, body)
  const timed = uploadTimer(options.workerTimeoutMs, body)
  try {
    const result = await worker.uploadArrival(
      envelope,
      { body: timed.body, length: spool.length },
      timed.signal,
    )
    return result.messages.map((message) => message._id)
  } finally {
    timed.stop()
  }
}

/** Keys of arrivals answered with a temporary failure, for this bridge process. */
const unsettled = new UnsettledArrivals()

/**
 * An inactivity timeout rather than a total one: 25 MiB to a distant Worker may take a while,
 * but an upload that stops moving, or a Worker that never answers, must not hold the session.
 *
 * @param {number} timeoutMs
 * @param {Buffer | import('node:fs').ReadStream} body
 */
function uploadTimer(timeoutMs, body) {
  const controller = new AbortController()
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  const touch = () => {
    clearTimeout(timer)
    timer = setTimeout(() => controller.abort(new Error('Worker stalled')), timeoutMs)
  }
  touch()
  const tracked = Buffer.isBuffer(body)
    ? body
    : (async function* () {
        try {
          for await (const chunk of body) {
            touch()
            yield /** @type {Buffer} */ (chunk)
          }
        } finally {
          body.destroy()
        }
      })()
  return {
    body: tracked,
    signal: controller.signal,
    stop: () => {
      clearTimeout(timer)
      if (!Buffer.isBuffer(body)) body.destroy()
    },
  }
}

/**
 * The id a Received header and the logs give one transaction: smtp-server's session id and the
 * transaction's number within the session.
 * @param {SMTPServerSession} session
 */
export function transactionId(session) {
  return `${session.id}.${session.transaction}`
}
