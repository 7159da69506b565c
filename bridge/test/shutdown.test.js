// SIGTERM on a bridge with sessions in flight: it stops accepting, lets them finish, then exits.
import { once } from 'node:events'
import net from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  HOST,
  idsFromReply,
  ingest,
  LineClient,
  listMessages,
  makeMessage,
  smtpStuff,
  stack,
  uniqueAddress,
} from './helpers.js'
import { freePort, startBridge } from './stack.js'

async function startOwnBridge(/** @type {string} */ name) {
  const ports = { smtp: await freePort(), pop3: await freePort() }
  const bridge = await startBridge(
    {
      BRIDGE_API_URL: stack().apiUrl,
      INGEST_TOKEN: stack().ingestToken,
      SMTP_PORT: String(ports.smtp),
      POP3_PORT: String(ports.pop3),
    },
    join(stack().dir, `bridge-${name}.log`),
  )
  return { bridge, ports }
}

/** @param {number} port @returns {Promise<boolean>} */
async function accepts(port) {
  const socket = net.connect(port, HOST)
  try {
    await once(socket, 'connect')
    return true
  } catch {
    return false
  } finally {
    socket.destroy()
  }
}

describe('graceful shutdown', () => {
  it('finishes an SMTP DATA in flight, refuses new connections, then exits 0', async () => {
    const { bridge, ports } = await startOwnBridge('shutdown-smtp')
    const to = uniqueAddress('shutdown')
    const client = await LineClient.connect(ports.smtp)
    await client.smtpReply()
    client.write(`EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`)
    for (let i = 0; i < 4; i++) await client.smtpReply()
    const message = smtpStuff(Buffer.from(makeMessage({ subject: 'in flight' })))
    client.write(message.subarray(0, 40))

    const exited = once(bridge.child, 'exit')
    process.kill(bridge.pid, 'SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await accepts(ports.smtp)).toBe(false)
    expect(bridge.child.exitCode).toBe(null)

    client.write(message.subarray(40))
    client.write('.\r\n')
    const reply = await client.smtpReply()
    expect(reply.code).toBe(250)
    const listed = await listMessages(to)
    expect(listed.map((m) => m._id)).toEqual(idsFromReply(reply.text))
    client.write('QUIT\r\n')
    const [code] = await exited
    expect(code).toBe(0)
  })

  it('lets a POP3 session in TRANSACTION QUIT and apply its deletes, then exits 0', async () => {
    const { bridge, ports } = await startOwnBridge('shutdown-pop3')
    const email = uniqueAddress('shutdown')
    await ingest(email, makeMessage())
    await ingest(email, makeMessage())
    const idle = await LineClient.connect(ports.pop3)
    await idle.readLine()
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    await client.command(`USER ${email}`)
    expect(await client.command('PASS pw')).toMatch(/^\+OK 2 messages/)
    expect(await client.command('DELE 1')).toMatch(/^\+OK/)

    const exited = once(bridge.child, 'exit')
    process.kill(bridge.pid, 'SIGTERM')
    // A session that has not logged in has nothing to lose and is closed straight away.
    await idle.closed()
    expect(await accepts(ports.pop3)).toBe(false)

    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    const [code] = await exited
    expect(code).toBe(0)
    expect(await listMessages(email)).toHaveLength(1)
  })
})
