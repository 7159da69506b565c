import { describe, expect, it } from 'vitest'
import {
  fetchRaw,
  idsFromReply,
  LineClient,
  listMessages,
  makeMessage,
  smtpSend,
  smtpStuff,
  splitTrace,
  stack,
  storedFromReply,
  uniqueAddress,
} from './helpers.js'

/** Opens an SMTP session and says EHLO; returns the client and the EHLO reply. */
async function ehlo() {
  const client = await LineClient.connect(stack().smtpPort)
  const greeting = await client.smtpReply()
  expect(greeting.code).toBe(220)
  client.write('EHLO client.example\r\n')
  return { client, reply: await client.smtpReply() }
}

describe('SMTP EHLO', () => {
  it('advertises SIZE 25 MiB, 8BITMIME, SMTPUTF8, PIPELINING and STARTTLS, and no AUTH', async () => {
    const { client, reply } = await ehlo()
    expect(reply.code).toBe(250)
    const extensions = reply.text.split('\n').map((line) => line.slice(4))
    expect(extensions).toContain('SIZE 26214400')
    expect(extensions).toContain('8BITMIME')
    expect(extensions).toContain('SMTPUTF8')
    expect(extensions).toContain('PIPELINING')
    expect(extensions).toContain('STARTTLS')
    expect(extensions.some((ext) => ext.startsWith('AUTH'))).toBe(false)
    client.close()
  })

  it('answers an AUTH attempt with a 5xx reply', async () => {
    const { client } = await ehlo()
    client.write(`AUTH PLAIN ${Buffer.from('\0user\0pass').toString('base64')}\r\n`)
    const reply = await client.smtpReply()
    expect(reply.code).toBeGreaterThanOrEqual(500)
    expect(reply.code).toBeLessThan(600)
    client.close()
  })

  it('upgrades with STARTTLS and still stores', async () => {
    const { client } = await ehlo()
    client.write('STARTTLS\r\n')
    expect((await client.smtpReply()).code).toBe(220)
    const secure = await client.upgrade()
    expect(secure.encrypted).toBe(true)
    client.write('EHLO client.example\r\n')
    const again = await client.smtpReply()
    expect(again.text).not.toContain('STARTTLS')
    const to = uniqueAddress('smtp')
    client.write(`MAIL FROM:<a@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(354)
    client.write(smtpStuff(Buffer.from(makeMessage({ subject: 'over tls' }))))
    client.write('.\r\n')
    const reply = await client.smtpReply()
    expect(reply.code).toBe(250)
    expect((await listMessages(to)).map((m) => m._id)).toEqual(idsFromReply(reply.text))
    client.close()
  })
})

describe('SMTP arrival at the Worker', () => {
  it('answers 250 with the stored id, and the stored raw equals the bytes sent', async () => {
    const to = uniqueAddress('smtp')
    const message = Buffer.from(
      makeMessage({ subject: 'exact bytes', body: '.starts with a dot\r\n..two\r\n.\r\nend\r\n' }),
    )
    const reply = await smtpSend({ to: [to], data: message })
    expect(reply.code).toBe(250)
    const ids = idsFromReply(reply.text)
    expect(ids).toHaveLength(1)
    const listed = await listMessages(to)
    expect(listed.map((m) => m._id)).toEqual(ids)
    expect(splitTrace(await fetchRaw(to, ids[0])).rest.equals(message)).toBe(true)
  })

  it('keeps 8-bit bytes and UTF-8 addresses (8BITMIME, SMTPUTF8)', async () => {
    const to = `ünïcode-${Date.now()}@bridge-test.example`
    const message = Buffer.concat([
      Buffer.from('Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'),
      Buffer.from('Grüße, café, 日本語\r\n', 'utf8'),
      Buffer.from([0xe9, 0x0d, 0x0a]),
    ])
    const client = await LineClient.connect(stack().smtpPort)
    await client.smtpReply()
    client.write('EHLO client.example\r\n')
    await client.smtpReply()
    client.write(`MAIL FROM:<sender@example.org> BODY=8BITMIME SMTPUTF8\r\n`)
    expect((await client.smtpReply()).code).toBe(250)
    client.write(`RCPT TO:<${to}>\r\n`)
    expect((await client.smtpReply()).code).toBe(250)
    client.write('DATA\r\n')
    expect((await client.smtpReply()).code).toBe(354)
    client.write(Buffer.concat([message, Buffer.from('.\r\n')]))
    const reply = await client.smtpReply()
    expect(reply.code).toBe(250)
    const [id] = idsFromReply(reply.text)
    expect(splitTrace(await fetchRaw(to, id)).rest.equals(message)).toBe(true)
    client.close()
  })

  it('stores one copy per recipient and names the first id and the count in the reply', async () => {
    const recipients = [uniqueAddress('multi'), uniqueAddress('multi'), uniqueAddress('multi')]
    const reply = await smtpSend({ to: recipients, data: makeMessage() })
    expect(reply.code).toBe(250)
    const stored = storedFromReply(reply.text)
    expect(stored.count).toBe(3)
    const listed = await Promise.all(recipients.map((rcpt) => listMessages(rcpt)))
    for (const inbox of listed) expect(inbox).toHaveLength(1)
    expect(listed.map((inbox) => inbox[0]._id)).toContain(stored.first)
  })

  it('accepts the null sender used by bounces', async () => {
    const to = uniqueAddress('bounce')
    const reply = await smtpSend({ from: '', to: [to], data: makeMessage() })
    expect(reply.code).toBe(250)
    expect(await listMessages(to)).toHaveLength(1)
  })

  it('handles a pipelined transaction (PIPELINING)', async () => {
    const to = uniqueAddress('pipe')
    const client = await LineClient.connect(stack().smtpPort)
    await client.smtpReply()
    client.write(`EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(354)
    client.write(
      `${makeMessage({ subject: 'one' })}.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`,
    )
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(354)
    client.write(`${makeMessage({ subject: 'two' })}.\r\nQUIT\r\n`)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(221)
    expect(await listMessages(to)).toHaveLength(2)
  })
})

describe('SMTP limits and refusals', () => {
  it('stores for 100 recipients, the cap, with a 250 under 512 octets (RFC 5321 §4.5.3.1.5)', async () => {
    const recipients = Array.from({ length: 100 }, () => uniqueAddress('hundred'))
    const reply = await smtpSend({ to: recipients, data: makeMessage({ subject: 'to a hundred' }) })
    expect(reply.code).toBe(250)
    expect(reply.text).toMatch(/^250 2\.0\.0 OK: stored as \S+ \(\+99 more\)$/)
    expect(Buffer.byteLength(`${reply.text}\r\n`)).toBeLessThanOrEqual(512)
    expect(storedFromReply(reply.text).count).toBe(100)
    expect(await listMessages(recipients[99])).toHaveLength(1)
  })

  it('refuses the 101st recipient', async () => {
    const client = await LineClient.connect(stack().smtpPort)
    await client.smtpReply()
    client.write('EHLO c.example\r\nMAIL FROM:<a@example.org>\r\n')
    await client.smtpReply()
    await client.smtpReply()
    for (let i = 0; i < 100; i++) {
      client.write(`RCPT TO:<cap-${i}@bridge-test.example>\r\n`)
      expect((await client.smtpReply()).code).toBe(250)
    }
    client.write('RCPT TO:<cap-100@bridge-test.example>\r\n')
    const reply = await client.smtpReply()
    expect(reply.code).toBeGreaterThanOrEqual(450)
    expect(reply.code).toBeLessThan(460)
    client.close()
  })

  it('refuses a declared SIZE over 25 MiB at MAIL FROM with 552', async () => {
    const { client } = await ehlo()
    client.write('MAIL FROM:<a@example.org> SIZE=26214401\r\n')
    expect((await client.smtpReply()).code).toBe(552)
    client.close()
  })

  it('refuses a message over 25 MiB with 552 and stores nothing', async () => {
    const to = uniqueAddress('big')
    const line = 'y'.repeat(998) + '\r\n'
    const body = line.repeat(Math.ceil((26 * 1024 * 1024) / line.length))
    const reply = await smtpSend({ to: [to], data: makeMessage({ body }) })
    expect(reply.code).toBe(552)
    expect(await listMessages(to)).toHaveLength(0)
  })

  it("turns the Worker's 403 policy refusal into 550 with the Worker's message", async () => {
    const reply = await smtpSend({ to: ['someone@not-accepted.example'], data: makeMessage() })
    expect(reply.text).toMatch(/^550 5\.7\.1 /)
    expect(reply.text).toContain('does not accept mail for someone@not-accepted.example')
  })

  it("turns the Worker's 400 bad envelope into 554 with the Worker's message", async () => {
    // smtp-server lets a bare "postmaster" through (RFC 5321 4.5.1); the Worker wants a domain.
    const reply = await smtpSend({ to: ['postmaster'], data: makeMessage() })
    expect(reply.text).toMatch(/^554 5\.6\.0 /)
    expect(reply.text).toContain('Invalid recipient address')
  })

  it('stores nothing when the client disconnects in the middle of DATA', async () => {
    const to = uniqueAddress('cut')
    const client = await LineClient.connect(stack().smtpPort)
    await client.smtpReply()
    client.write(`EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<${to}>\r\nDATA\r\n`)
    for (let i = 0; i < 4; i++) await client.smtpReply()
    client.write(makeMessage({ body: 'z'.repeat(500_000) + '\r\n' }))
    await new Promise((resolve) => setTimeout(resolve, 200))
    client.close()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(await listMessages(to)).toHaveLength(0)
  })
})

describe('Received trace header (RFC 5321 §4.4)', () => {
  /**
   * Runs one transaction over a raw socket and returns the stored copy for `to[0]`.
   * @param {{ greeting: string, to: string[], message: Buffer, starttls?: boolean }} options
   */
  async function transact({ greeting, to, message, starttls = false }) {
    const client = await LineClient.connect(stack().smtpPort)
    await client.smtpReply()
    client.write(`${greeting}\r\n`)
    await client.smtpReply()
    if (starttls) {
      client.write('STARTTLS\r\n')
      expect((await client.smtpReply()).code).toBe(220)
      await client.upgrade()
      client.write(`${greeting}\r\n`)
      await client.smtpReply()
    }
    client.write('MAIL FROM:<trace@example.org>\r\n')
    expect((await client.smtpReply()).code).toBe(250)
    for (const rcpt of to) {
      client.write(`RCPT TO:<${rcpt}>\r\n`)
      expect((await client.smtpReply()).code).toBe(250)
    }
    client.write('DATA\r\n')
    expect((await client.smtpReply()).code).toBe(354)
    client.write(Buffer.concat([smtpStuff(message), Buffer.from('.\r\n')]))
    const reply = await client.smtpReply()
    expect(reply.code).toBe(250)
    client.close()
    const [listed] = await listMessages(to[0])
    return splitTrace(await fetchRaw(to[0], listed._id))
  }

  it('prepends one Received (RFC 5321 §4.4): HELO name, client IP, by host, ESMTP, id, for, date', async () => {
    const to = uniqueAddress('trace')
    const message = Buffer.from(makeMessage({ subject: 'traced', body: '.dot\r\nReceived: x\r\n' }))
    const { trace, rest } = await transact({ greeting: 'EHLO client.example', to: [to], message })
    expect(rest.equals(message)).toBe(true)
    const unfolded = trace.replace(/\r\n[ \t]/g, ' ')
    expect(unfolded).toMatch(
      new RegExp(
        `^Received: from client\\.example \\(\\[127\\.0\\.0\\.1\\]\\) by \\S+ \\(mailsac-edge-bridge\\) ` +
          `with ESMTP id \\S+\\.1 for <${to}>; ` +
          `(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\\r\\n$`,
      ),
    )
    const stamped = Date.parse(unfolded.slice(unfolded.lastIndexOf(';') + 1).trim())
    expect(Math.abs(Date.now() - stamped)).toBeLessThan(60_000)
  })

  it('says ESMTPS after STARTTLS and SMTP after HELO, and names no recipient when there are two', async () => {
    const secure = await transact({
      greeting: 'EHLO tls.example',
      to: [uniqueAddress('trace')],
      message: Buffer.from(makeMessage()),
      starttls: true,
    })
    expect(secure.trace).toMatch(/\bwith ESMTPS id /)
    const two = [uniqueAddress('trace'), uniqueAddress('trace')]
    const helo = await transact({
      greeting: 'HELO old.example',
      to: two,
      message: Buffer.from(makeMessage()),
    })
    expect(helo.trace).toMatch(/^Received: from old\.example /)
    expect(helo.trace).toMatch(/\bwith SMTP id /)
    expect(helo.trace).not.toMatch(/\bfor </)
  })

  it('folds so that no line of it reaches 998 octets, whatever the HELO name and recipient', async () => {
    const longHelo = `${'h'.repeat(60)}.`.repeat(4) + 'example'
    // smtp-server's cap for a HELO name is 255 octets; a local part may have 64.
    const to = `${'r'.repeat(64)}@bridge-test.example`
    const { trace, rest } = await transact({
      greeting: `EHLO ${longHelo}`,
      to: [to],
      message: Buffer.from(makeMessage()),
    })
    expect(trace).toContain(`from ${longHelo} `)
    for (const line of trace.split('\r\n')) expect(line.length).toBeLessThan(998)
    expect(rest.toString()).toMatch(/^From: Sender/)
  })
})
