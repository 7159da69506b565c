import http from 'node:http'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorkerClient } from '../src/worker-client.js'
import { fetchRaw, stack, uniqueAddress } from './helpers.js'

// Workers limit a request's URL to 16 KB (https://developers.cloudflare.com/workers/platform/limits/,
// "URLs have a limit of 16 KB"), which wrangler dev does not enforce: the bridge must carry an
// arrival's envelope in the body (issue #14 item 8). A plain node:http server records what the
// Worker would receive.

const URL_LIMIT_BYTES = 16 * 1024

/** @type {{ url: string, body: string }[]} */
const received = []
/** @type {http.Server} */
let server
let apiUrl = ''

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    received.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('latin1') })
    res.setHeader('content-type', 'application/json')
    res.end(
      req.url === '/internal/ingest/batch'
        ? JSON.stringify({ results: [{ messages: [] }] })
        : JSON.stringify({ messages: [] }),
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = /** @type {import('node:net').AddressInfo} */ (server.address())
  apiUrl = `http://127.0.0.1:${address.port}`
})

afterAll(() => new Promise((resolve) => server.close(resolve)))

// 100 recipients (the bridge's cap) with 200-character local parts: about 21 KB of addresses.
const to = Array.from({ length: 100 }, (_, i) => `${'r'.repeat(200)}${i}@long.example`)
const envelope = { from: 'a@example.org', to, ip: '192.0.2.1', key: 'k1' }
const raw = Buffer.from('From: a@example.org\r\nSubject: hi\r\n\r\nhi\r\n')

describe('the Worker client keeps envelopes out of URLs (16 KB)', () => {
  it('posts a single arrival with its 100 long recipients in the body', async () => {
    received.length = 0
    const client = createWorkerClient({ apiUrl, ingestToken: 't', workerTimeoutMs: 5000 })
    await client.uploadArrival(
      envelope,
      { body: raw, length: raw.length },
      AbortSignal.timeout(5000),
    )
    expect(received).toHaveLength(1)
    expect(Buffer.byteLength(received[0].url)).toBeLessThan(URL_LIMIT_BYTES)
    expect(received[0].url).toBe('/internal/ingest')
    for (const recipient of to) expect(received[0].body).toContain(recipient)
  })

  it('posts a batch with its envelopes in the body', async () => {
    received.length = 0
    const client = createWorkerClient({ apiUrl, ingestToken: 't', workerTimeoutMs: 5000 })
    await client.uploadArrivals([{ envelope, raw }], AbortSignal.timeout(5000))
    expect(received).toHaveLength(1)
    expect(received[0].url).toBe('/internal/ingest/batch')
    for (const recipient of to) expect(received[0].body).toContain(recipient)
  })
})

describe('the batch body the client writes', () => {
  it('stores every message of a batch byte for byte through the real Worker', async () => {
    const { apiUrl: workerUrl, ingestToken } = stack()
    const client = createWorkerClient({ apiUrl: workerUrl, ingestToken, workerTimeoutMs: 30_000 })
    // Bytes a multipart writer could mangle: 8-bit, a NUL-free binary run, bare LF, a line that
    // looks like a boundary, and no final CRLF.
    const bodies = [
      Buffer.concat([
        Buffer.from('From: a@example.org\r\nSubject: bytes\r\n\r\n--batch-\r\n'),
        Buffer.from([0xe9, 0xff, 0x80, 0x0a, 0x7f]),
        Buffer.from('\nend'),
      ]),
      Buffer.from('From: a@example.org\r\nSubject: second\r\n\r\nplain\r\n'),
    ]
    const inboxes = bodies.map(() => uniqueAddress('batchbody'))
    const results = await client.uploadArrivals(
      bodies.map((raw, i) => ({
        envelope: { from: 'a@example.org', to: [inboxes[i]], ip: '127.0.0.1' },
        raw,
      })),
      AbortSignal.timeout(30_000),
    )
    expect(results).toHaveLength(2)
    for (const [i, result] of results.entries()) {
      if (!('messages' in result)) throw new Error(`refused: ${result.message}`)
      const [stored] = result.messages
      expect(stored.inbox).toBe(inboxes[i])
      expect((await fetchRaw(inboxes[i], stored._id)).equals(bodies[i])).toBe(true)
    }
  })
})
