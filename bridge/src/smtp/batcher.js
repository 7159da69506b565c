import {
  INGEST_BATCHES_IN_FLIGHT,
  INGEST_BATCH_GATHER_MESSAGES,
  INGEST_BATCH_GATHER_MS,
  INGEST_BATCH_MAX_BYTES,
  INGEST_BATCH_MAX_MESSAGES,
} from '../limits.js'
import { WorkerResponseError } from '../worker-client.js'

/** The Worker's error for an arrival a full batch left out (src/mail/inbound/ingest.ts). */
export const BATCH_FULL = 'batch-full'

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
 *
 * When the server tells the open SMTP sessions, the count decides instead: each sender waits
 * for its 250 before its next message, so once every session has a message here or in flight
 * nobody else can join. Then what waits leaves (after the batch out, if that carries more of
 * the senders: they come back together), and until then even the first message waits, within
 * the window, for the others. With 8 connections the old rule sent batches of 1 and 7 in turn,
 * two requests' fixed cost per 8 messages (bench/smtp-vs-maildev.mjs); a session that is open
 * but idle costs a message at most INGEST_BATCH_GATHER_MS.
 */
export class ArrivalBatcher {
  /**
   * @param {WorkerClient} worker
   * @param {{ timeoutMs: number, openSessions?: () => number, maxMessages?: number }} options
   *   `openSessions`: the SMTP sessions open now (unknown: gather for the whole window);
   *   `maxMessages`: messages per request, at most INGEST_BATCH_MAX_MESSAGES (the bridge's
   *   INGEST_BATCH_MESSAGES setting: 1 sends every message alone, for Workers Free's CPU time)
   */
  constructor(
    worker,
    {
      timeoutMs,
      openSessions = () => Number.POSITIVE_INFINITY,
      maxMessages = INGEST_BATCH_MAX_MESSAGES,
    },
  ) {
    this.worker = worker
    this.timeoutMs = timeoutMs
    this.openSessions = openSessions
    this.maxMessages = Math.max(1, Math.min(maxMessages, INGEST_BATCH_MAX_MESSAGES))
    /** a batch this full leaves without waiting for company */
    this.gatherMessages = Math.min(INGEST_BATCH_GATHER_MESSAGES, this.maxMessages)
    /** messages in the batches out now */
    this.inFlightMessages = 0
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

  /** Whether more senders are expected to join what waits (see the class comment). */
  waitForMore() {
    const sessions = this.openSessions()
    if (sessions === Number.POSITIVE_INFINITY) return this.inFlight > 0
    const everyoneWaits = this.queue.length + this.inFlightMessages >= sessions
    if (!everyoneWaits) return true
    return this.inFlight > 0 && this.queue.length < this.inFlightMessages
  }

  pump() {
    while (this.queue.length > 0 && this.inFlight < INGEST_BATCHES_IN_FLIGHT) {
      if (this.queue.length < this.gatherMessages && !this.gatherOver && this.waitForMore()) {
        break
      }
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
      batch.length < this.maxMessages &&
      (batch.length === 0 || bytes + this.queue[0].raw.length <= INGEST_BATCH_MAX_BYTES)
    ) {
      const item = /** @type {QueuedMessage} */ (this.queue.shift())
      bytes += item.raw.length
      batch.push(item)
    }
    this.inFlight++
    this.inFlightMessages += batch.length
    this.send(batch).finally(() => {
      this.inFlight--
      this.inFlightMessages -= batch.length
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
      /** @type {QueuedMessage[]} */
      const left = []
      batch.forEach((item, i) => {
        const result = results[i]
        if (result && 'messages' in result) item.resolve(result.messages.map((m) => m._id))
        // The Worker stores a bounded number of attachments per call (MAX_ATTACHMENTS_PER_BATCH)
        // and left this one out, unstored: it leaves first with the next batch.
        else if (result && 'error' in result && result.error === BATCH_FULL) left.push(item)
        else
          item.reject(
            new WorkerResponseError(result?.status ?? 500, 'refused', result?.message ?? 'refused'),
          )
      })
      this.queue.unshift(...left)
    } catch (err) {
      // The whole batch failed (Worker down, 503, timeout): nothing of it was stored, and every
      // sender gets the same temporary failure.
      for (const item of batch) item.reject(err)
    }
  }
}
