// Issue #15 item 1: a 451 that hides a stored message must not turn the sender's retry into a
// second copy. A second bridge reaches the real Worker through an HTTP proxy that, for the next
// ingest request only, lets the Worker store the arrival and then either holds the reply until
// the bridge gives up (the Worker slower than the bridge's timeout) or cuts the connection
// instead of answering (the reply lost after the Worker stored).
import { once } from 'node:events'
import http from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HOST,
  idsFromReply,
  listMessages,
  makeMessage,
  smtpSend,
  stack,
  uniqueAddress,
} from './helpers.js'
import { freePort, startBridge, waitFor } from './stack.js'

/** @typedef {'hold-past-timeout' | 'drop-reply'} Fault */

/** An HTTP proxy to the Worker that spoils the reply of the next ingest request it is told to. */
class FaultyIngestProxy {
  /** @param {number} workerPort */
  constructor(workerPort) {
    this.workerPort = workerPort
    /** @type {Fault | null} */
    this.nextFault = null
    /** paths of the ingest requests whose reply was spoiled, in order */
    /** @type {string[]} */
    this.spoiled = []
    /** @type {Set<import('node:net').Socket>} */
    this.sockets = new Set()
    this.server = http.createServer((req, res) => this.handle(req, res))
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  async listen() {
    this.server.listen(0, HOST)
    await once(this.server, 'listening')
    return /** @type {import('node:net').AddressInfo} */ (this.server.address()).port
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  handle(req, res) {
    const isIngest = req.url?.startsWith('/internal/ingest') ?? false
    const fault = isIngest ? this.nextFault : null
    if (fault) {
      this.nextFault = null
      this.spoiled.push(new URL(req.url ?? '/', 'http://x').pathname)
    }
    const upstream = http.request({
      host: HOST,
      port: this.workerPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
    })
    upstream.on('error', () => res.destroy())
    // The request goes on to the Worker whatever the bridge does meanwhile: abandoning it is
    // the bridge's choice, not the Worker's.
    req.pipe(upstream)
    upstream.on('response', async (reply) => {
      const chunks = []
      for await (const chunk of reply) chunks.push(chunk)
      const body = Buffer.concat(chunks)
      if (fault === 'drop-reply') {
        // Stored, and the bridge hears nothing but a closed connection.
        req.socket.destroy()
        return
      }
      if (fault === 'hold-past-timeout') {
        // Stored; the reply waits until the bridge gives up on it and closes the connection.
        if (!req.socket.destroyed) await once(req.socket, 'close')
        return
      }
      res.writeHead(reply.statusCode ?? 502, reply.headers)
      res.end(body)
    })
  }

  async close() {
    for (const socket of this.sockets) socket.destroy()
    await new Promise((resolve) => this.server.close(resolve))
  }
}

/** @type {FaultyIngestProxy} */
let proxy
/** @type {Awaited<ReturnType<typeof startBridge>>} */
let bridge
let smtpPort = 0

beforeAll(async () => {
  proxy = new FaultyIngestProxy(Number(new URL(stack().apiUrl).port))
  const proxyPort = await proxy.listen()
  smtpPort = await freePort()
  bridge = await startBridge(
    {
      BRIDGE_API_URL: `http://${HOST}:${proxyPort}`,
      INGEST_TOKEN: stack().ingestToken,
      SMTP_PORT: String(smtpPort),
      POP3_PORT: String(await freePort()),
      // Long enough for an unhurried local Worker to store a large message, short enough that
      // the held reply makes the test wait only this long.
      WORKER_TIMEOUT_MS: '4000',
    },
    join(stack().dir, 'bridge-exactly-once.log'),
  )
})

afterAll(async () => {
  await bridge?.stop()
  await proxy?.close()
})

/** Over SPOOL_MEMORY_BYTES (256 KiB): spooled to disk and streamed alone, never batched. */
function largeBody() {
  const line = `${'0123456789abcdef'.repeat(4)}\r\n`
  return line.repeat(Math.ceil((300 * 1024) / line.length))
}

const paths = /** @type {const} */ ([
  { name: 'batched', route: '/internal/ingest/batch', body: () => 'A small message.\r\n' },
  { name: 'large (spooled)', route: '/internal/ingest', body: largeBody },
])

/** @type {{ fault: Fault, seen: string }[]} */
const faults = [
  { fault: 'hold-past-timeout', seen: 'the Worker answers after the bridge timeout' },
  { fault: 'drop-reply', seen: 'the Worker stored but its reply was lost' },
]

describe('SMTP retry after a 451 that hid a stored message (#15 item 1)', () => {
  for (const path of paths) {
    for (const { fault, seen } of faults) {
      it(`stores one copy when ${seen}, ${path.name} path`, async () => {
        const to = uniqueAddress('once')
        const data = makeMessage({ subject: `${fault} ${path.name}`, body: path.body() })
        const spoiledBefore = proxy.spoiled.length

        proxy.nextFault = fault
        const first = await smtpSend({ to: [to], data, port: smtpPort })
        expect(first.code).toBe(451)
        expect(proxy.spoiled.slice(spoiledBefore)).toEqual([path.route])

        // The Worker did store the arrival the bridge gave up on.
        /** @type {any[]} */
        let stored = []
        await waitFor(async () => {
          stored = await listMessages(to)
          return stored.length > 0
        }, 30_000)
        expect(stored).toHaveLength(1)

        // The sender retries the same transaction: same envelope, same bytes.
        const retry = await smtpSend({ to: [to], data, port: smtpPort })
        expect(retry.code).toBe(250)
        expect(idsFromReply(retry.text)).toEqual([stored[0]._id])

        const listed = await listMessages(to)
        expect(listed.map((m) => m._id)).toEqual([stored[0]._id])
      })
    }
  }

  it('stores two copies when the same file is sent twice and both get 250', async () => {
    const to = uniqueAddress('resend')
    const data = makeMessage({ subject: 'deliberate resend' })
    const first = await smtpSend({ to: [to], data, port: smtpPort })
    const second = await smtpSend({ to: [to], data, port: smtpPort })
    expect(first.code).toBe(250)
    expect(second.code).toBe(250)
    const ids = [...idsFromReply(first.text), ...idsFromReply(second.text)]
    expect(new Set(ids).size).toBe(2)
    const listed = await listMessages(to)
    expect(listed.map((m) => m._id).sort()).toEqual(ids.sort())
  })
})
