import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  fetchRaw,
  HOST,
  idsFromReply,
  ingest,
  listMessages,
  pop3Login,
  smtpSend,
  splitTrace,
  stack,
  uniqueAddress,
  unstuff,
} from './helpers.js'

/**
 * ~10 MB of CRLF mail that exercises the encoders: lines starting with dots (stuffed by SMTP,
 * unstuffed by the bridge, stuffed again by POP3), a lone ".", very long lines, 8-bit bytes.
 */
function largeMessage(/** @type {number} */ targetBytes) {
  const parts = [
    Buffer.from('From: big@example.org\r\nTo: someone\r\nSubject: ten megabytes\r\n\r\n.\r\n'),
  ]
  let size = parts[0].length
  let i = 0
  while (size < targetBytes) {
    let line
    switch (i++ % 5) {
      case 0:
        line = Buffer.from(`.line ${i} starts with a dot\r\n`)
        break
      case 1:
        line = Buffer.from(`..${randomBytes(30).toString('base64')}\r\n`)
        break
      case 2:
        line = Buffer.from(`${'L'.repeat(20_000 + (i % 977))}\r\n`)
        break
      case 3:
        line = Buffer.concat([
          Buffer.from('8bit: '),
          Buffer.from([0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff]),
          Buffer.from('\r\n'),
        ])
        break
      default:
        line = Buffer.from(`${randomBytes(57).toString('base64')}\r\n`)
    }
    parts.push(line)
    size += line.length
  }
  parts.push(Buffer.from('.\r\nlast line\r\n'))
  return Buffer.concat(parts)
}

describe('a 10 MB message', () => {
  it('goes in over SMTP and comes out of POP3 RETR byte for byte', async () => {
    const message = largeMessage(10 * 1024 * 1024)
    const email = uniqueAddress('large')
    const reply = await smtpSend({ to: [email], data: message })
    expect(reply.code).toBe(250)
    const [id] = idsFromReply(reply.text)
    const [listed] = await listMessages(email)
    expect(listed._id).toBe(id)
    const { trace } = splitTrace(await fetchRaw(email, id))
    const size = trace.length + message.length
    expect(listed.size).toBe(size)

    const { client, passReply } = await pop3Login(email, 'pw')
    expect(passReply).toMatch(/^\+OK 1 messages/)
    expect(await client.command('LIST 1')).toBe(`+OK 1 ${size}`)
    expect(await client.command('RETR 1')).toBe(`+OK ${size} octets`)
    const payload = await client.readMultiline()
    const received = unstuff(payload)
    expect(received.length).toBe(size)
    expect(splitTrace(received).rest.equals(message)).toBe(true)

    expect(await client.command('TOP 1 1')).toMatch(/^\+OK/)
    expect((await client.readMultiline()).toString()).toBe(
      `${trace}From: big@example.org\r\nTo: someone\r\nSubject: ten megabytes\r\n\r\n..\r\n`,
    )
    client.close()
  }, 120_000)
})

/** Bytes the bridge process has read from any socket or file so far (Linux /proc). */
function bridgeBytesRead() {
  const io = readFileSync(`/proc/${stack().bridgePid}/io`, 'utf8')
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1])
}

describe('RETR to a client that does not read', () => {
  it('stops downloading from the Worker instead of buffering the message', async () => {
    const size = 20 * 1024 * 1024
    const line = `${randomBytes(57).toString('base64')}\r\n`
    const message = Buffer.from(
      `From: big@example.org\r\nSubject: slow reader\r\n\r\n${line.repeat(size / line.length)}`,
    )
    const email = uniqueAddress('slow')
    await ingest(email, message)

    const socket = net.connect({ host: HOST, port: stack().pop3Port })
    await once(socket, 'connect')
    // Never read: the replies and the message pile up in the kernel until the bridge stops.
    socket.pause()
    const before = bridgeBytesRead()
    socket.write(`USER ${email}\r\nPASS pw\r\nRETR 1\r\n`)
    let read = before
    for (let stable = 0; stable < 5;) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      const now = bridgeBytesRead()
      stable = now === read ? stable + 1 : 0
      read = now
    }
    // What the bridge took is what the kernel's socket buffers and a few chunks in flight
    // hold (a few MB), far from the 20 MB the Worker would send to a reader that keeps up.
    expect(read - before).toBeGreaterThan(0)
    expect(read - before).toBeLessThan(size / 2)

    // Reading again resumes the download, and the message arrives whole.
    /** @type {Buffer[]} */
    const chunks = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.resume()
    const terminator = Buffer.from('\r\n.\r\n')
    while (!Buffer.concat(chunks.slice(-2)).includes(terminator)) await once(socket, 'data')
    socket.destroy()
    const all = Buffer.concat(chunks)
    const start =
      all.indexOf(`+OK ${message.length} octets\r\n`) + `+OK ${message.length} octets\r\n`.length
    const payload = all.subarray(start, all.lastIndexOf(terminator) + 2)
    expect(unstuff(payload).equals(message)).toBe(true)
  }, 120_000)
})
