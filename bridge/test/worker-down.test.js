// A second bridge reaches the real Worker through a TCP relay that the tests switch off, on, or
// into a black hole (accepts connections, never answers), to show what SMTP and POP3 clients
// see when the Worker is unreachable, and that nothing is lost or doubled.
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import net from 'node:net'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createAccount,
  HOST,
  ingest,
  LineClient,
  listMessages,
  makeMessage,
  reserveAddress,
  smtpSend,
  stack,
  uniqueAddress,
} from './helpers.js'
import { freePort, startBridge } from './stack.js'

const run = promisify(execFile)

/** A TCP relay to the Worker whose mode the test controls. */
class WorkerRelay {
  /** @param {number} listenPort @param {number} workerPort */
  constructor(listenPort, workerPort) {
    this.listenPort = listenPort
    this.workerPort = workerPort
    /** @type {net.Server | null} */
    this.server = null
    /** @type {Set<net.Socket>} */
    this.sockets = new Set()
  }

  /** @param {'forward' | 'black-hole'} mode */
  async start(mode) {
    await this.stop()
    this.server = net.createServer((client) => {
      this.sockets.add(client)
      client.on('close', () => this.sockets.delete(client))
      client.on('error', () => {})
      if (mode === 'black-hole') return
      const upstream = net.connect(this.workerPort, HOST)
      this.sockets.add(upstream)
      upstream.on('close', () => this.sockets.delete(upstream))
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
      client.pipe(upstream).pipe(client)
    })
    this.server.listen(this.listenPort, HOST)
    await once(this.server, 'listening')
  }

  /** Nothing listens any more and every pooled connection is cut, as when the Worker dies. */
  async stop() {
    if (!this.server) return
    const server = this.server
    this.server = null
    for (const socket of this.sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
}

/** @type {WorkerRelay} */
let relay
/** @type {Awaited<ReturnType<typeof startBridge>>} */
let bridge
const ports = { smtp: 0, pop3: 0 }

beforeAll(async () => {
  relay = new WorkerRelay(await freePort(), Number(new URL(stack().apiUrl).port))
  ports.smtp = await freePort()
  ports.pop3 = await freePort()
  bridge = await startBridge(
    {
      BRIDGE_API_URL: `http://${HOST}:${relay.listenPort}`,
      INGEST_TOKEN: stack().ingestToken,
      SMTP_PORT: String(ports.smtp),
      POP3_PORT: String(ports.pop3),
      WORKER_TIMEOUT_MS: '1500',
      POP3_PUBLIC_LOGIN: 'false',
    },
    join(stack().dir, 'bridge-worker-down.log'),
  )
})

afterAll(async () => {
  await bridge?.stop()
  await relay?.stop()
})

/** @param {string} to @param {string} file */
function swaks(to, file) {
  return run('swaks', [
    '--server',
    `${HOST}:${ports.smtp}`,
    '--from',
    'retry@example.org',
    '--to',
    to,
    '--data',
    `@${file}`,
  ]).then(
    ({ stdout }) => stdout,
    (/** @type {any} */ err) => String(err.stdout),
  )
}

describe('SMTP when the Worker is down', () => {
  it('answers 451, and a retry after the Worker is back stores the message exactly once', async () => {
    const to = uniqueAddress('retry')
    const file = join(stack().dir, `retry-${Date.now()}.eml`)
    writeFileSync(file, makeMessage({ subject: 'retried arrival' }))

    await relay.stop()
    const refused = await swaks(to, file)
    expect(refused).toMatch(/<\*\* +451 /)

    await relay.start('forward')
    expect(await listMessages(to)).toHaveLength(0)
    const accepted = await swaks(to, file)
    expect(accepted).toMatch(/<- {2}250 2\.0\.0 OK: stored as \S+/)

    const listed = await listMessages(to)
    expect(listed).toHaveLength(1)
    expect(listed[0].subject).toBe('retried arrival')
  })

  it('answers 451 when the Worker accepts the connection but never answers', async () => {
    const to = uniqueAddress('stalled')
    await relay.start('black-hole')
    const reply = await smtpSend({ to: [to], data: makeMessage(), port: ports.smtp })
    expect(reply.code).toBe(451)
    await relay.start('forward')
    expect(await listMessages(to)).toHaveLength(0)
  })
})

describe('POP3 when the Worker is down', () => {
  it('answers a login with -ERR [SYS/TEMP] and keeps the connection', async () => {
    const email = uniqueAddress('down')
    await relay.stop()
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    await client.command(`USER ${email}`)
    expect(await client.command('PASS whatever')).toMatch(/^-ERR \[SYS\/TEMP\]/)
    expect(await client.command('CAPA')).toMatch(/^\+OK/)
    client.close()
    await relay.start('forward')
  })

  it('answers RETR with -ERR [SYS/TEMP], and a QUIT whose deletes fail keeps the messages', async () => {
    const email = uniqueAddress('down')
    const owner = await createAccount()
    await reserveAddress(email, owner.apiKey)
    await ingest(email, makeMessage())
    await relay.start('forward')
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    await client.command(`USER ${email}`)
    expect(await client.command(`PASS ${owner.apiKey}`)).toMatch(/^\+OK 1 messages/)
    await relay.stop()
    expect(await client.command('RETR 1')).toMatch(/^-ERR \[SYS\/TEMP\]/)
    expect(await client.command('DELE 1')).toMatch(/^\+OK/)
    expect(await client.command('QUIT')).toMatch(
      /^-ERR \[SYS\/TEMP\] some deleted messages not removed/,
    )
    await relay.start('forward')
    expect(await listMessages(email, owner.apiKey)).toHaveLength(1)
  })
})

describe('POP3_PUBLIC_LOGIN=false', () => {
  it('refuses a public inbox without a valid key', async () => {
    await relay.start('forward')
    const email = uniqueAddress('public')
    await ingest(email, makeMessage())
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    await client.command(`USER ${email}`)
    expect(await client.command('PASS anything')).toMatch(/^-ERR \[AUTH\]/)
    client.close()
  })
})
