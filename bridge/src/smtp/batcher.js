import {
  INGEST_BATCHES_IN_FLIGHT,
  INGEST_BATCH_MAX_BYTES,
  INGEST_BATCH_MAX_MESSAGES,
} from '../limits.js'
import { WorkerResponseError } from '../worker-client.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {{ from: string, to: string[], ip: string }} Envelope */

/**
 * Groups messages that arrive together into one `POST /internal/ingest/batch`: the Worker then
 * writes them in one D1 transaction and one R2 object, which is what lets SMTP ingest keep up
 * with bursts. No message waits on a timer: while fewer than INGEST_BATCHES_IN_FLIGHT batches
 * are out, a message leaves at once (alone, if it is alone); only when all are busy do new
 * messages queue, and then they leave together as soon as one batch comes back. Each message
 * is answered on its own: the Worker's per-message refusals reach only their own sender.
 */
export class IngestBatcher {
  /** @param {WorkerClient} worker @param {{ timeoutMs: number }} options */
  constructor(worker, { timeoutMs }) {
    this.worker = worker
    this.timeoutMs = timeoutMs
    /** @type {{ envelope: Envelope, raw: Buffer, resolve: (ids: string[]) => void, reject: (err: unknown) => void }[]} */
    this.queue = []
    this.inFlight = 0
  }

  /**
   * Stores one complete message; resolves with its message ids once the Worker stored it.
   * @param {Envelope} envelope
   * @param {Buffer} raw
   * @returns {Promise<string[]>}
   */
  submit(envelope, raw) {
    return new Promise((resolve, reject) => {
      this.queue.push({ envelope, raw, resolve, reject })
      this.pump()
    })
  }

  pump() {
    while (this.inFlight < INGEST_BATCHES_IN_FLIGHT && this.queue.length > 0) {
      const batch = []
      let bytes = 0
      while (
        this.queue.length > 0 &&
        batch.length < INGEST_BATCH_MAX_MESSAGES &&
        (batch.length === 0 || bytes + this.queue[0].raw.length <= INGEST_BATCH_MAX_BYTES)
      ) {
        const item = /** @type {(typeof this.queue)[number]} */ (this.queue.shift())
        bytes += item.raw.length
        batch.push(item)
      }
      this.inFlight++
      this.send(batch).finally(() => {
        this.inFlight--
        this.pump()
      })
    }
  }

  /** @param {(typeof this.queue)} batch */
  async send(batch) {
    const signal = AbortSignal.timeout(this.timeoutMs)
    try {
      const results = await this.worker.ingestBatch(
        batch.map(({ envelope, raw }) => ({ envelope, raw })),
        signal,
      )
      batch.forEach((item, i) => {
        const result = results[i]
        if (result && 'messages' in result) item.resolve(result.messages.map((m) => m._id))
        else
          item.reject(
            new WorkerResponseError(result?.status ?? 500, 'refused', result?.message ?? 'refused'),
          )
      })
    } catch (err) {
      // The whole batch failed (Worker down, 503, timeout): nothing of it was stored, and every
      // sender gets the same temporary failure.
      for (const item of batch) item.reject(err)
    }
  }
}
