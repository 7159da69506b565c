import { once } from 'node:events'
import net from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createAccount,
  deleteMessage,
  fetchRaw,
  HOST,
  ingest,
  LineClient,
  listMessages,
  makeMessage,
  pop3Login,
  reserveAddress,
  stack,
  uniqueAddress,
  unstuff,
} from './helpers.js'

/**
 * An inbox with three messages (ids oldest first) for read-only tests.
 * @param {string} email
 */
async function fillInbox(email, count = 3) {
  const ids = []
  for (let i = 1; i <= count; i++) {
    ids.push(
      ...(await ingest(email, makeMessage({ subject: `message ${i}`, body: `Body ${i}\r\n` }))),
    )
  }
  return ids
}

describe('POP3 greeting and CAPA (RFC 2449)', () => {
  it('greets with +OK and lists the capabilities, STLS included before TLS', async () => {
    const client = await LineClient.connect(stack().pop3Port)
    expect(await client.readLine()).toMatch(/^\+OK /)
    const capa = await client.multiline('CAPA')
    expect(capa.status).toMatch(/^\+OK/)
    for (const capability of [
      'USER',
      'TOP',
      'UIDL',
      'PIPELINING',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'STLS',
    ]) {
      expect(capa.lines).toContain(capability)
    }
    expect(capa.lines).toContain('SASL PLAIN')
    client.close()
  })

  it('drops STLS from CAPA once logged in', async () => {
    const email = uniqueAddress()
    const { client, passReply } = await pop3Login(email, 'anything')
    expect(passReply).toMatch(/^\+OK/)
    const capa = await client.multiline('CAPA')
    expect(capa.lines).toContain('UIDL')
    expect(capa.lines).not.toContain('STLS')
    client.close()
  })
})

describe('POP3 AUTHORIZATION state (RFC 1939 section 4, 7)', () => {
  /** @type {{ username: string, apiKey: string }} */
  let owner
  /** @type {{ username: string, apiKey: string }} */
  let stranger
  let privateInbox = ''

  beforeAll(async () => {
    owner = await createAccount()
    stranger = await createAccount()
    privateInbox = uniqueAddress('private')
    await reserveAddress(privateInbox, owner.apiKey)
    await fillInbox(privateInbox, 2)
  })

  it('logs the owner of a private inbox in with the API key as password', async () => {
    const { client, passReply } = await pop3Login(privateInbox, owner.apiKey)
    expect(passReply).toMatch(/^\+OK 2 messages/)
    expect(await client.command('STAT')).toMatch(/^\+OK 2 \d+$/)
    client.close()
  })

  it('normalises USER like the REST API: trimmed and lower-cased', async () => {
    const { client, passReply } = await pop3Login(`  ${privateInbox.toUpperCase()}`, owner.apiKey)
    expect(passReply).toMatch(/^\+OK 2 messages/)
    client.close()
  })

  it('refuses a wrong key with -ERR [AUTH]', async () => {
    const { client, passReply } = await pop3Login(privateInbox, 'x'.repeat(64))
    expect(passReply).toMatch(/^-ERR \[AUTH\]/)
    client.close()
  })

  it("refuses another account's valid key with -ERR [AUTH]", async () => {
    const { client, passReply } = await pop3Login(privateInbox, stranger.apiKey)
    expect(passReply).toMatch(/^-ERR \[AUTH\]/)
    client.close()
  })

  it('opens a public inbox with any password', async () => {
    const email = uniqueAddress('public')
    await fillInbox(email, 1)
    const { client, passReply } = await pop3Login(email, 'whatever-i-like')
    expect(passReply).toMatch(/^\+OK 1 messages/)
    client.close()
  })

  it('sends the client back to USER after a failed PASS, and keeps the connection', async () => {
    const { client, passReply } = await pop3Login(privateInbox, 'wrong')
    expect(passReply).toMatch(/^-ERR \[AUTH\]/)
    expect(await client.command(`PASS ${owner.apiKey}`)).toMatch(/^-ERR/)
    expect(await client.command(`USER ${privateInbox}`)).toMatch(/^\+OK/)
    expect(await client.command(`PASS ${owner.apiKey}`)).toMatch(/^\+OK/)
    client.close()
  })

  it('answers PASS without USER, and TRANSACTION commands, with -ERR', async () => {
    const client = await LineClient.connect(stack().pop3Port)
    await client.readLine()
    expect(await client.command('PASS secret')).toMatch(/^-ERR/)
    for (const command of ['STAT', 'LIST', 'UIDL', 'RETR 1', 'TOP 1 0', 'DELE 1', 'RSET', 'NOOP']) {
      expect(await client.command(command)).toMatch(/^-ERR/)
    }
    expect(await client.command('USER not-an-address')).toMatch(/^-ERR/)
    expect(await client.command('APOP someone deadbeef')).toMatch(/^-ERR/)
    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    await client.closed()
  })

  it('logs in with SASL PLAIN, inline and as a continuation (RFC 5034)', async () => {
    const token = Buffer.from(`\0${privateInbox}\0${owner.apiKey}`).toString('base64')
    const inline = await LineClient.connect(stack().pop3Port)
    await inline.readLine()
    expect(await inline.command(`AUTH PLAIN ${token}`)).toMatch(/^\+OK 2 messages/)
    inline.close()

    const continued = await LineClient.connect(stack().pop3Port)
    await continued.readLine()
    expect(await continued.command('AUTH PLAIN')).toBe('+ ')
    expect(await continued.command(token)).toMatch(/^\+OK 2 messages/)
    continued.close()
  })

  it('cancels SASL with "*", refuses bad SASL credentials with [AUTH], and lists mechanisms', async () => {
    const client = await LineClient.connect(stack().pop3Port)
    await client.readLine()
    expect(await client.command('AUTH PLAIN')).toBe('+ ')
    expect(await client.command('*')).toMatch(/^-ERR/)
    const bad = Buffer.from(`\0${privateInbox}\0wrong`).toString('base64')
    expect(await client.command(`AUTH PLAIN ${bad}`)).toMatch(/^-ERR \[AUTH\]/)
    expect(await client.command('AUTH CRAM-MD5')).toMatch(/^-ERR/)
    const mechanisms = await client.multiline('AUTH')
    expect(mechanisms.lines).toEqual(['PLAIN'])
    client.close()
  })

  it('grants one session per inbox: a second login gets -ERR [IN-USE] until the first QUITs', async () => {
    const email = uniqueAddress('locked')
    await fillInbox(email, 1)
    const first = await pop3Login(email, 'pw')
    expect(first.passReply).toMatch(/^\+OK/)
    const second = await pop3Login(email, 'pw')
    expect(second.passReply).toMatch(/^-ERR \[IN-USE\]/)
    expect(await first.client.command('QUIT')).toMatch(/^\+OK/)
    await first.client.closed()
    expect(await second.client.command(`USER ${email}`)).toMatch(/^\+OK/)
    expect(await second.client.command('PASS pw')).toMatch(/^\+OK/)
    second.client.close()
  })
})

describe('POP3 inbox lock and failed logins', () => {
  it('releases the inbox lock at QUIT (RFC 1939 §6), before the client closes its side', async () => {
    const email = uniqueAddress('quit-lock')
    await fillInbox(email, 1)
    // allowHalfOpen: the first client keeps its side open after the server's FIN, as a client
    // that is slow to close would.
    const socket = net.connect({ host: HOST, port: stack().pop3Port, allowHalfOpen: true })
    await once(socket, 'connect')
    const first = new LineClient(socket)
    await first.readLine()
    expect(await first.command(`USER ${email}`)).toMatch(/^\+OK/)
    expect(await first.command('PASS pw')).toMatch(/^\+OK/)
    expect(await first.command('QUIT')).toMatch(/^\+OK/)
    const second = await pop3Login(email, 'pw')
    expect(second.passReply).toMatch(/^\+OK 1 messages/)
    second.client.close()
    first.close()
  })

  it('normalises USER like the REST API, so <a@x> and a@x share one lock (security 6a)', async () => {
    const email = uniqueAddress('bracket')
    await fillInbox(email, 1)
    const first = await pop3Login(`<${email.toUpperCase()}>`, 'pw')
    expect(first.passReply).toMatch(/^\+OK 1 messages/)
    const second = await pop3Login(email, 'pw')
    expect(second.passReply).toMatch(/^-ERR \[IN-USE\]/)
    first.client.close()
    second.client.close()
  })

  it('closes the connection at the third failed login (security 6d)', async () => {
    const owner = await createAccount()
    const email = uniqueAddress('private')
    await reserveAddress(email, owner.apiKey)
    const { client, passReply } = await pop3Login(email, 'wrong-1')
    expect(passReply).toMatch(/^-ERR \[AUTH\] invalid credentials$/)
    expect(await client.command(`USER ${email}`)).toMatch(/^\+OK/)
    expect(await client.command('PASS wrong-2')).toMatch(/^-ERR \[AUTH\] invalid credentials$/)
    const bad = Buffer.from(`\0${email}\0wrong-3`).toString('base64')
    expect(await client.command(`AUTH PLAIN ${bad}`)).toMatch(/^-ERR \[AUTH\] .*closing/)
    await client.closed()
    expect(client.ended).toBe(true)
  })
})

describe('POP3 TRANSACTION state (RFC 1939 section 5, 7)', () => {
  it('STAT, LIST and UIDL describe the snapshot, oldest message first, UIDL being the _id', async () => {
    const email = uniqueAddress()
    const ids = await fillInbox(email, 3)
    const listed = await listMessages(email)
    const sizeOf = new Map(listed.map((m) => [m._id, m.size]))
    const total = ids.reduce((sum, id) => sum + sizeOf.get(id), 0)

    const { client } = await pop3Login(email, 'pw')
    expect(await client.command('STAT')).toBe(`+OK 3 ${total}`)

    const list = await client.multiline('LIST')
    expect(list.lines).toEqual(ids.map((id, i) => `${i + 1} ${sizeOf.get(id)}`))
    expect(await client.command('LIST 2')).toBe(`+OK 2 ${sizeOf.get(ids[1])}`)

    const uidl = await client.multiline('UIDL')
    expect(uidl.lines).toEqual(ids.map((id, i) => `${i + 1} ${id}`))
    expect(await client.command('UIDL 3')).toBe(`+OK 3 ${ids[2]}`)
    client.close()
  })

  it('answers bad message numbers with -ERR and keeps the session', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 1)
    const { client } = await pop3Login(email, 'pw')
    for (const command of [
      'LIST 0',
      'LIST 2',
      'LIST abc',
      'UIDL 9',
      'RETR 7',
      'RETR',
      'TOP 1',
      'TOP 1 x',
      'DELE 0',
      'DELE -1',
    ]) {
      expect(await client.command(command)).toMatch(/^-ERR/)
    }
    expect(await client.command('BOGUS')).toMatch(/^-ERR/)
    expect(await client.command('NOOP')).toBe('+OK')
    expect(await client.command('USER other@example.com')).toMatch(/^-ERR/)
    client.close()
  })

  it('RETR sends the stored bytes, CRLF-terminated, ending with "."', async () => {
    const email = uniqueAddress()
    const [id] = await fillInbox(email, 1)
    const raw = await fetchRaw(email, id)
    const { client } = await pop3Login(email, 'pw')
    expect(await client.command('RETR 1')).toBe(`+OK ${raw.length} octets`)
    const payload = await client.readMultiline()
    expect(unstuff(payload).equals(raw)).toBe(true)
    client.close()
  })

  it('RETR converts bare LF to CRLF and dot-stuffs lines starting with "."', async () => {
    const email = uniqueAddress()
    const raw = 'Subject: dots\n\n.leading dot\n..two dots\n.\nplain\r\nlast line without newline'
    await ingest(email, raw)
    const { client } = await pop3Login(email, 'pw')
    await client.command('RETR 1')
    const payload = await client.readMultiline()
    expect(payload.toString()).toBe(
      'Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\nplain\r\nlast line without newline\r\n',
    )
    client.close()
  })

  // The Worker lists only `size` (raw bytes) today; the bridge reads `crlfSize` once it is
  // listed (see mailbox.js). Until then LIST is 5 octets short here, so this stays skipped.
  it('announces in LIST the octets RETR sends for a bare-LF message (RFC 1939 §5, 5b)', async () => {
    const email = uniqueAddress()
    await ingest(email, 'Subject: bare\n\nline 1\n.line 2\nline 3\n')
    const { client } = await pop3Login(email, 'pw')
    const size = Number((await client.command('LIST 1')).split(' ')[2])
    expect(await client.command('RETR 1')).toBe(`+OK ${size} octets`)
    expect(unstuff(await client.readMultiline()).length).toBe(size)
    client.close()
  })

  it('RETR has no line-length limit', async () => {
    const email = uniqueAddress()
    const longLine = 'x'.repeat(200_000)
    await ingest(email, `Subject: long\r\n\r\n${longLine}\r\n`)
    const { client } = await pop3Login(email, 'pw')
    await client.command('RETR 1')
    const payload = await client.readMultiline()
    expect(payload.toString()).toBe(`Subject: long\r\n\r\n${longLine}\r\n`)
    client.close()
  })

  it('TOP sends exactly the headers, the blank line and n body lines', async () => {
    const email = uniqueAddress()
    const headers = 'From: a@example.org\r\nTo: b@example.org\r\nSubject: top\r\n'
    const body = 'line 1\r\n.line 2\r\nline 3\r\nline 4\r\n'
    await ingest(email, `${headers}\r\n${body}`)
    const { client } = await pop3Login(email, 'pw')

    expect(await client.command('TOP 1 0')).toMatch(/^\+OK/)
    expect((await client.readMultiline()).toString()).toBe(`${headers}\r\n`)

    expect(await client.command('TOP 1 2')).toMatch(/^\+OK/)
    expect((await client.readMultiline()).toString()).toBe(`${headers}\r\nline 1\r\n..line 2\r\n`)

    expect(await client.command('TOP 1 100')).toMatch(/^\+OK/)
    expect((await client.readMultiline()).toString()).toBe(
      `${headers}\r\nline 1\r\n..line 2\r\nline 3\r\nline 4\r\n`,
    )
    client.close()
  })

  it('keeps numbering stable: mail arriving after login stays out of the session', async () => {
    const email = uniqueAddress()
    const ids = await fillInbox(email, 2)
    const { client } = await pop3Login(email, 'pw')
    await ingest(email, makeMessage({ subject: 'late' }))
    expect(await client.command('STAT')).toMatch(/^\+OK 2 /)
    const uidl = await client.multiline('UIDL')
    expect(uidl.lines).toEqual([`1 ${ids[0]}`, `2 ${ids[1]}`])
    client.close()
  })

  it('answers -ERR for a message deleted over REST after login', async () => {
    const email = uniqueAddress()
    const [id] = await fillInbox(email, 1)
    const { client } = await pop3Login(email, 'pw')
    await deleteMessage(email, id)
    expect(await client.command('RETR 1')).toMatch(/^-ERR/)
    expect(await client.command('TOP 1 0')).toMatch(/^-ERR/)
    expect(await client.command('NOOP')).toBe('+OK')
    client.close()
  })

  it('answers an over-long command line with -ERR and keeps reading', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 1)
    const { client } = await pop3Login(email, 'pw')
    expect(await client.command(`NOOP ${'a'.repeat(10_000)}`)).toMatch(/^-ERR/)
    expect(await client.command('NOOP')).toBe('+OK')
    client.close()
  })
})

describe('POP3 DELE, RSET and the UPDATE state (RFC 1939 section 5, 6)', () => {
  it('hides a DELEd message from STAT, LIST and UIDL, and refuses RETR, TOP and a second DELE', async () => {
    const email = uniqueAddress()
    const ids = await fillInbox(email, 3)
    const { client } = await pop3Login(email, 'pw')
    const [, size2] = (await client.command('LIST 2')).split(' ').slice(1).map(Number)
    const [, total] = (await client.command('STAT')).split(' ').slice(1).map(Number)

    expect(await client.command('DELE 2')).toMatch(/^\+OK/)
    expect(await client.command('STAT')).toBe(`+OK 2 ${total - size2}`)
    expect((await client.multiline('LIST')).lines.map((l) => l.split(' ')[0])).toEqual(['1', '3'])
    expect((await client.multiline('UIDL')).lines).toEqual([`1 ${ids[0]}`, `3 ${ids[2]}`])
    expect(await client.command('LIST 2')).toMatch(/^-ERR/)
    expect(await client.command('UIDL 2')).toMatch(/^-ERR/)
    expect(await client.command('RETR 2')).toMatch(/^-ERR/)
    expect(await client.command('TOP 2 0')).toMatch(/^-ERR/)
    expect(await client.command('DELE 2')).toMatch(/^-ERR/)
    client.close()
  })

  it('RSET unmarks deleted messages', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 2)
    const { client } = await pop3Login(email, 'pw')
    const stat = await client.command('STAT')
    await client.command('DELE 1')
    await client.command('DELE 2')
    expect(await client.command('STAT')).toBe('+OK 0 0')
    expect(await client.command('RSET')).toMatch(/^\+OK/)
    expect(await client.command('STAT')).toBe(stat)
    expect(await client.command('RETR 1')).toMatch(/^\+OK/)
    await client.readMultiline()
    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    expect(await listMessages(email)).toHaveLength(2)
  })

  it('deletes marked messages at QUIT, and only those', async () => {
    const email = uniqueAddress()
    const ids = await fillInbox(email, 3)
    const { client } = await pop3Login(email, 'pw')
    await client.command('DELE 1')
    await client.command('DELE 3')
    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    await client.closed()
    expect((await listMessages(email)).map((m) => m._id)).toEqual([ids[1]])
  })

  it('deletes nothing when the connection drops without QUIT', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 2)
    const { client } = await pop3Login(email, 'pw')
    await client.command('DELE 1')
    await client.command('DELE 2')
    client.close()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await listMessages(email)).toHaveLength(2)
  })

  it('deletes from a private inbox with the owner key', async () => {
    const owner = await createAccount()
    const email = uniqueAddress('private')
    await reserveAddress(email, owner.apiKey)
    await fillInbox(email, 2)
    const { client } = await pop3Login(email, owner.apiKey)
    await client.command('DELE 1')
    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    expect(await listMessages(email, owner.apiKey)).toHaveLength(1)
  })
})

describe('POP3 pipelining (RFC 2449 section 6.6)', () => {
  it('answers commands sent in one write, in order', async () => {
    const email = uniqueAddress()
    const ids = await fillInbox(email, 2)
    const client = await LineClient.connect(stack().pop3Port)
    await client.readLine()
    client.write(
      `USER ${email}\r\nPASS pw\r\nSTAT\r\nUIDL 1\r\nRETR 2\r\nLIST\r\nDELE 1\r\nNOOP\r\nQUIT\r\n`,
    )
    expect(await client.readLine()).toMatch(/^\+OK/)
    expect(await client.readLine()).toMatch(/^\+OK 2 messages/)
    expect(await client.readLine()).toMatch(/^\+OK 2 \d+/)
    expect(await client.readLine()).toBe(`+OK 1 ${ids[0]}`)
    expect(await client.readLine()).toMatch(/^\+OK \d+ octets/)
    expect((await client.readMultiline()).toString()).toContain('Body 2')
    expect(await client.readLine()).toMatch(/^\+OK 2 messages/)
    expect((await client.readMultiline()).toString()).toMatch(/^1 \d+\r\n2 \d+\r\n$/)
    expect(await client.readLine()).toMatch(/^\+OK message 1 deleted/)
    expect(await client.readLine()).toBe('+OK')
    expect(await client.readLine()).toMatch(/^\+OK/)
    await client.closed()
    expect((await listMessages(email)).map((m) => m._id)).toEqual([ids[1]])
  })
})

describe('POP3 over TLS (RFC 2595 STLS, RFC 8314 implicit TLS)', () => {
  it('upgrades with STLS, then logs in over TLS', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 1)
    const client = await LineClient.connect(stack().pop3Port)
    await client.readLine()
    expect(await client.command('STLS')).toMatch(/^\+OK/)
    const secure = await client.upgrade()
    expect(secure.encrypted).toBe(true)
    expect(await client.command('STLS')).toMatch(/^-ERR/)
    const capa = await client.multiline('CAPA')
    expect(capa.lines).not.toContain('STLS')
    expect(await client.command(`USER ${email}`)).toMatch(/^\+OK/)
    expect(await client.command('PASS pw')).toMatch(/^\+OK 1 messages/)
    client.close()
  })

  it('discards plaintext commands pipelined after STLS', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 1)
    const client = await LineClient.connect(stack().pop3Port)
    await client.readLine()
    client.write(`STLS\r\nUSER ${email}\r\nPASS injected\r\n`)
    expect(await client.readLine()).toMatch(/^\+OK/)
    await client.upgrade()
    // Had the injected USER survived, PASS alone would log in; it must ask for USER first.
    expect(await client.command('PASS pw')).toMatch(/^-ERR/)
    expect(await client.command('STAT')).toMatch(/^-ERR/)
    client.close()
  })

  it('refuses STLS after login', async () => {
    const { client } = await pop3Login(uniqueAddress(), 'pw')
    expect(await client.command('STLS')).toMatch(/^-ERR/)
    client.close()
  })

  it('serves implicit TLS on the POP3S port', async () => {
    const email = uniqueAddress()
    await fillInbox(email, 2)
    const client = await LineClient.connect(stack().pop3sPort, { tls: true })
    expect(await client.readLine()).toMatch(/^\+OK/)
    const capa = await client.multiline('CAPA')
    expect(capa.lines).not.toContain('STLS')
    expect(await client.command(`USER ${email}`)).toMatch(/^\+OK/)
    expect(await client.command('PASS pw')).toMatch(/^\+OK 2 messages/)
    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    await client.closed()
  })
})

describe('POP3 QUIT in AUTHORIZATION', () => {
  it('says goodbye and closes the connection', async () => {
    const client = await LineClient.connect(stack().pop3Port)
    await client.readLine()
    const closed = once(client.socket, 'close')
    expect(await client.command('QUIT')).toMatch(/^\+OK/)
    await closed
  })
})
