import { describe, expect, it } from 'vitest'
import {
  INGEST_BATCHES_IN_FLIGHT,
  INGEST_BATCH_GATHER_MESSAGES,
  INGEST_BATCH_MAX_MESSAGES,
} from '../src/limits.js'
import { loadConfig } from '../src/config.js'
import { ArrivalBatcher, BATCH_FULL } from '../src/smtp/batcher.js'
import { WorkerResponseError } from '../src/worker-client.js'

/**
 * A Worker client whose batch requests stay open until the test answers them, so the test
 * decides when each batch "comes back".
 */
function heldWorker() {
  /** @type {{ items: { envelope: any, raw: Buffer }[], answer: (refused?: number[], full?: number[]) => void }[]} */
  const requests = []
  return {
    requests,
    /** @param {{ envelope: any, raw: Buffer }[]} items */
    uploadArrivals(items) {
      return new Promise((resolve) => {
        requests.push({
          items,
          answer: (refused = [], full = []) =>
            resolve(
              items.map((_, i) =>
                refused.includes(i)
                  ? { status: 403, error: 'refused', message: `refused ${i}` }
                  : full.includes(i)
                    ? { status: 503, error: BATCH_FULL, message: `no room for ${i}` }
                    : { messages: [{ _id: `id-${items[i].raw}`, inbox: 'x@y.z' }] },
              ),
            ),
        })
      })
    },
  }
}

const envelope = { from: 'a@b.c', to: ['x@y.z'], ip: '127.0.0.1' }
const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('ArrivalBatcher', () => {
  it('sends a message at once when no batch is out', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), { timeoutMs: 10_000 })
    const stored = batcher.submit(envelope, Buffer.from('m1'))
    expect(worker.requests).toHaveLength(1)
    worker.requests[0].answer()
    expect(await stored).toEqual(['id-m1'])
  })

  it('gathers messages that arrive while a batch is out into one request', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), { timeoutMs: 10_000 })
    const first = batcher.submit(envelope, Buffer.from('m0'))
    const later = [1, 2, 3].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    // Fewer than INGEST_BATCH_GATHER_MESSAGES: they wait for the gather window, together.
    expect(worker.requests).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(worker.requests).toHaveLength(2)
    expect(worker.requests[1].items.map((item) => String(item.raw))).toEqual(['m1', 'm2', 'm3'])
    worker.requests[0].answer()
    worker.requests[1].answer()
    expect(await first).toEqual(['id-m0'])
    expect(await Promise.all(later)).toEqual([['id-m1'], ['id-m2'], ['id-m3']])
  })

  it('sends a full gathering without waiting for the window', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), { timeoutMs: 10_000 })
    const all = [batcher.submit(envelope, Buffer.from('m0'))]
    for (let i = 1; i <= INGEST_BATCH_GATHER_MESSAGES; i++) {
      all.push(batcher.submit(envelope, Buffer.from(`m${i}`)))
    }
    expect(worker.requests).toHaveLength(2)
    expect(worker.requests[1].items).toHaveLength(INGEST_BATCH_GATHER_MESSAGES)
    for (const request of worker.requests) request.answer()
    expect(await Promise.all(all)).toHaveLength(INGEST_BATCH_GATHER_MESSAGES + 1)
  })

  it(`keeps at most ${INGEST_BATCHES_IN_FLIGHT} batches out and sends the rest together`, async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), { timeoutMs: 10_000 })
    /** @type {Promise<string[]>[]} */
    const all = []
    let n = 0
    const submitMany = (/** @type {number} */ count) => {
      for (let i = 0; i < count; i++) all.push(batcher.submit(envelope, Buffer.from(`m${n++}`)))
    }
    submitMany(1)
    for (let i = 1; i < INGEST_BATCHES_IN_FLIGHT; i++) submitMany(INGEST_BATCH_GATHER_MESSAGES)
    expect(worker.requests).toHaveLength(INGEST_BATCHES_IN_FLIGHT)
    submitMany(3)
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Every slot is busy: the three wait past their window for one to come back.
    expect(worker.requests).toHaveLength(INGEST_BATCHES_IN_FLIGHT)
    worker.requests[0].answer()
    await tick()
    expect(worker.requests).toHaveLength(INGEST_BATCHES_IN_FLIGHT + 1)
    expect(worker.requests.at(-1)?.items).toHaveLength(3)
    for (const request of worker.requests.slice(1)) request.answer()
    expect(await Promise.all(all)).toHaveLength(n)
  })

  it('answers each message with its own verdict, so one refusal reaches only its sender', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), { timeoutMs: 10_000 })
    const first = batcher.submit(envelope, Buffer.from('m0'))
    const ok = batcher.submit(envelope, Buffer.from('m1'))
    const refused = batcher.submit(envelope, Buffer.from('m2'))
    await new Promise((resolve) => setTimeout(resolve, 50))
    worker.requests[0].answer()
    worker.requests[1].answer([1])
    expect(await first).toEqual(['id-m0'])
    expect(await ok).toEqual(['id-m1'])
    const err = await refused.catch((e) => e)
    expect(err).toBeInstanceOf(WorkerResponseError)
    expect(err.status).toBe(403)
  })

  it('#14.3 sends again, first in the next batch, what a full Worker batch left out', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), { timeoutMs: 10_000 })
    const first = batcher.submit(envelope, Buffer.from('m0'))
    const rest = [1, 2].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    await new Promise((resolve) => setTimeout(resolve, 50))
    worker.requests[0].answer()
    // The Worker stored m1 and left m2 out (its attachments did not fit the call's bound).
    worker.requests[1].answer([], [1])
    expect(await first).toEqual(['id-m0'])
    expect(await rest[0]).toEqual(['id-m1'])
    await tick()
    expect(worker.requests).toHaveLength(3)
    expect(worker.requests[2].items.map((item) => String(item.raw))).toEqual(['m2'])
    worker.requests[2].answer()
    expect(await rest[1]).toEqual(['id-m2'])
  })

  it('#18 gathers until every open session has a message pending, then sends them as one', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), {
      timeoutMs: 10_000,
      openSessions: () => 3,
    })
    const first = [0, 1].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    // One of three sessions has not sent yet: the two wait for it.
    expect(worker.requests).toHaveLength(0)
    const third = batcher.submit(envelope, Buffer.from('m2'))
    // All three senders now wait for their 250: nobody can join, so they leave together.
    expect(worker.requests).toHaveLength(1)
    expect(worker.requests[0].items.map((item) => String(item.raw))).toEqual(['m0', 'm1', 'm2'])
    worker.requests[0].answer()
    expect(await Promise.all([...first, third])).toEqual([['id-m0'], ['id-m1'], ['id-m2']])
  })

  it('#18 gathers the senders again as they come back one by one with their 250s', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), {
      timeoutMs: 10_000,
      openSessions: () => 3,
    })
    const sent = [0, 1, 2].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    worker.requests[0].answer()
    await Promise.all(sent)
    // The senders come back one by one; the batch leaves with the last of them.
    const again = [3, 4].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    expect(worker.requests).toHaveLength(1)
    const last = batcher.submit(envelope, Buffer.from('m5'))
    expect(worker.requests).toHaveLength(2)
    expect(worker.requests[1].items.map((item) => String(item.raw))).toEqual(['m3', 'm4', 'm5'])
    worker.requests[1].answer()
    expect(await Promise.all([...again, last])).toHaveLength(3)
  })
  it('with maxMessages 1 (INGEST_BATCH_MESSAGES=1, Workers Free) sends every message alone, without waiting', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), {
      timeoutMs: 10_000,
      maxMessages: 1,
    })
    const all = [0, 1, 2, 3].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    // Two go out at once (both slots); no gather window holds the second.
    expect(worker.requests.map((r) => r.items.length)).toEqual([1, 1])
    worker.requests[0].answer()
    await tick()
    worker.requests[1].answer()
    await tick()
    expect(worker.requests.map((r) => r.items.length)).toEqual([1, 1, 1, 1])
    worker.requests[2].answer()
    worker.requests[3].answer()
    expect(await Promise.all(all)).toEqual([['id-m0'], ['id-m1'], ['id-m2'], ['id-m3']])
  })

  it('with maxMessages 3 splits a queue of 7 into requests of at most 3', async () => {
    const worker = heldWorker()
    const batcher = new ArrivalBatcher(/** @type {any} */ (worker), {
      timeoutMs: 10_000,
      maxMessages: 3,
    })
    const all = [0, 1, 2, 3, 4, 5, 6].map((i) => batcher.submit(envelope, Buffer.from(`m${i}`)))
    // m0 alone at once; m1..m3 fill a batch, which leaves without the window.
    expect(worker.requests.map((r) => r.items.length)).toEqual([1, 3])
    worker.requests[0].answer()
    await tick()
    worker.requests[1].answer()
    await tick()
    expect(worker.requests.map((r) => r.items.length)).toEqual([1, 3, 3])
    worker.requests[2].answer()
    expect((await Promise.all(all)).flat()).toHaveLength(7)
  })

  it('reads INGEST_BATCH_MESSAGES, 1 to the most, and refuses anything else', () => {
    const base = { INGEST_TOKEN: 't' }
    expect(loadConfig(base).ingestBatchMessages).toBe(INGEST_BATCH_MAX_MESSAGES)
    expect(loadConfig({ ...base, INGEST_BATCH_MESSAGES: '1' }).ingestBatchMessages).toBe(1)
    for (const bad of ['0', '-1', '2.5', 'ten', String(INGEST_BATCH_MAX_MESSAGES + 1)]) {
      expect(() => loadConfig({ ...base, INGEST_BATCH_MESSAGES: bad })).toThrow(
        /INGEST_BATCH_MESSAGES must be a whole number from 1 to 50/,
      )
    }
  })
})
