import { smtpError, TOO_LARGE } from './replies.js'
import { MessageSpool } from './spool.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('smtp-server').SMTPServerDataStream} SMTPServerDataStream */
/** @typedef {import('smtp-server').SMTPServerSession} SMTPServerSession */

/**
 * @typedef {object} ArrivalOptions
 * @property {number} spoolMemoryBytes messages up to this size stay in memory
 * @property {string} spoolDir where larger ones wait for their end of DATA
 * @property {number} workerTimeoutMs longest silence allowed from the Worker upload
 * @property {import('./batcher.js').ArrivalBatcher} [batcher] groups small messages into batches
 */

/**
 * Receives one arrival (an SMTP transaction's envelope and DATA body) and posts it to the
 * Worker once complete; resolves with the stored message ids. The SMTP stream is always read to its end, even past the size limit:
 * smtp-server replies only after the end of DATA.
 *
 * @param {WorkerClient} worker
 * @param {SMTPServerDataStream} source
 * @param {SMTPServerSession} session
 * @param {ArrivalOptions} options
 * @returns {Promise<string[]>}
 */
export async function postArrival(worker, source, session, options) {
  const spool = new MessageSpool({ memoryLimit: options.spoolMemoryBytes, dir: options.spoolDir })
  try {
    for await (const chunk of source) {
      // Past the limit the rest is read and dropped: smtp-server answers 552 (rejectOversized).
      if (source.sizeExceeded) continue
      await spool.write(chunk)
    }
    if (source.sizeExceeded)
      throw smtpError(TOO_LARGE, 'Message exceeds fixed maximum message size')
    const envelope = {
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      ip: session.remoteAddress,
    }
    const body = await spool.body()
    // Small messages (the usual case) go through the batcher; large ones stream on their own.
    if (Buffer.isBuffer(body) && options.batcher)
      return await options.batcher.submit(envelope, body)
    const upload = uploadTimer(options.workerTimeoutMs, body)
    try {
      const result = await worker.uploadArrival(
        envelope,
        { body: upload.body, length: spool.length },
        upload.signal,
      )
      return result.messages.map((message) => message._id)
    } finally {
      upload.stop()
    }
  } finally {
    await spool.dispose()
  }
}

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
