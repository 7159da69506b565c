import {
  INGEST_BATCHES_IN_FLIGHT,
  INGEST_BATCH_GATHER_MESSAGES,
  INGEST_BATCH_GATHER_MS,
  INGEST_BATCH_MAX_BYTES,
  INGEST_BATCH_MAX_MESSAGES,
} from '../limits.js'
import { WorkerResponseError } from '../worker-client.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../worker-client.js').ArrivalEnvelope} Envelope */
/**
 * @typedef {object} QueuedMessage
 * @property {Envelope} envelope
 * @property {Buffer} raw
 * @property {(ids: string[]) => void} resolve
 * @property {(err: unknown) => void} reject
 */

/**
 * Groups arrivals that come together into one `POST /internal/ingest/batch`: the Worker then
 * writes them in one D1 transaction and one R2 object, which is what lets SMTP ingest keep up
 * with bursts. When no batch is out, a message leaves at once, alone if it is alone: a quiet
 * server adds no delay. While a batch is out, messages gather for at most
 * INGEST_BATCH_GATHER_MS (or until INGEST_BATCH_GATHER_MESSAGES are waiting), since many
 * sessions are evidently sending; and when all INGEST_BATCHES_IN_FLIGHT are out, they queue
 * and leave together as soon as one comes back. Every request costs the Worker a fixed set of
 * D1 and R2 round trips, so fewer, fuller batches are what raises the messages per second.
 * Each message is answered on its own: the Worker's per-message refusals reach only their own
 * sender.
 */
export class ArrivalBatcher {
  /** @param {WorkerClient} worker @param {{ timeoutMs: number }} options */
  constructor(worker, { timeoutMs }) {
    this.worker = worker
    this.timeoutMs = timeoutMs
    /** @type {QueuedMessage[]} */
    this.queue = []
    this.inFlight = 0
    /** @type {NodeJS.Timeout | null} ends the gather window: what waits then leaves */
    this.gatherTimer = null
    /** the window ended with messages still waiting: they leave at the next free slot */
    this.gatherOver = false
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
    while (this.queue.length > 0 && this.inFlight < INGEST_BATCHES_IN_FLIGHT) {
      const gathering =
        this.inFlight > 0 && this.queue.length < INGEST_BATCH_GATHER_MESSAGES && !this.gatherOver
      if (gathering) break
      this.sendNext()
    }
    if (this.queue.length === 0) {
      // Nothing waits any more: the next message after a batch went out opens a new window.
      if (this.gatherTimer) clearTimeout(this.gatherTimer)
      this.gatherTimer = null
      this.gatherOver = false
    } else if (!this.gatherOver) {
      // Waiting for company or for a free slot: either way, once the window is over they
      // leave with the next slot that frees up.
      this.gatherTimer ??= setTimeout(() => {
        this.gatherTimer = null
        this.gatherOver = true
        this.pump()
      }, INGEST_BATCH_GATHER_MS)
    }
  }

  /** Takes the oldest queued messages, up to the batch limits, and sends them as one batch. */
  sendNext() {
    const batch = []
    let bytes = 0
    while (
      this.queue.length > 0 &&
      batch.length < INGEST_BATCH_MAX_MESSAGES &&
      (batch.length === 0 || bytes + this.queue[0].raw.length <= INGEST_BATCH_MAX_BYTES)
    ) {
      const item = /** @type {QueuedMessage} */ (this.queue.shift())
      bytes += item.raw.length
      batch.push(item)
    }
    this.inFlight++
    this.send(batch).finally(() => {
      this.inFlight--
      this.pump()
    })
  }

  /** @param {QueuedMessage[]} batch */
  async send(batch) {
    const signal = AbortSignal.timeout(this.timeoutMs)
    try {
      const results = await this.worker.uploadArrivals(
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
