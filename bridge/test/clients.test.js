// The bridge as mail software sees it: curl, python's poplib/smtplib and swaks, unmodified.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  createAccount,
  fetchRaw,
  HOST,
  ingest,
  listMessages,
  makeMessage,
  reserveAddress,
  splitTrace,
  stack,
  storedFromReply,
  uniqueAddress,
} from './helpers.js'

const run = promisify(execFile)

/** @param {string[]} args */
async function curl(args) {
  const { stdout } = await run('curl', ['--silent', '--show-error', '--max-time', '30', ...args], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  })
  return stdout
}

/**
 * Runs a python3 snippet with `params` as JSON on stdin; the snippet prints JSON back.
 * @param {string} script
 * @param {Record<string, unknown>} params
 */
async function python(script, params) {
  const child = run('python3', ['-c', script], { maxBuffer: 64 * 1024 * 1024 })
  child.child.stdin?.end(JSON.stringify(params))
  const { stdout } = await child
  return JSON.parse(stdout)
}

/** @param {string} name @param {string | Buffer} content */
function tempFile(name, content) {
  const path = join(stack().dir, `${Date.now()}-${name}`)
  writeFileSync(path, content)
  return path
}

describe('curl', () => {
  it('lists and retrieves over pop3:// (SASL PLAIN, as curl prefers it)', async () => {
    const owner = await createAccount()
    const email = uniqueAddress('curl')
    await reserveAddress(email, owner.apiKey)
    const [id] = await ingest(email, makeMessage({ subject: 'for curl' }))
    const raw = await fetchRaw(email, id, owner.apiKey)
    const url = `pop3://${HOST}:${stack().pop3Port}`

    const list = (await curl([`${url}/`, '--user', `${email}:${owner.apiKey}`])).toString()
    expect(list).toBe(`1 ${raw.length}\r\n`)
    const message = await curl([`${url}/1`, '--user', `${email}:${owner.apiKey}`])
    expect(message.equals(raw)).toBe(true)
    const uidl = (
      await curl([`${url}/`, '--user', `${email}:${owner.apiKey}`, '--request', 'UIDL'])
    ).toString()
    expect(uidl).toBe(`1 ${id}\r\n`)
  })

  it('refuses a wrong key over pop3://', async () => {
    const owner = await createAccount()
    const email = uniqueAddress('curl')
    await reserveAddress(email, owner.apiKey)
    const url = `pop3://${HOST}:${stack().pop3Port}/`
    await expect(curl([url, '--user', `${email}:wrong-key`])).rejects.toThrow(/Login denied|67/)
  })

  it('deletes with DELE and QUIT over pop3://', async () => {
    const email = uniqueAddress('curl')
    await ingest(email, makeMessage())
    await ingest(email, makeMessage())
    const url = `pop3://${HOST}:${stack().pop3Port}/1`
    await curl([url, '--user', `${email}:pw`, '--request', 'DELE', '--head'])
    expect(await listMessages(email)).toHaveLength(1)
  })

  it('upgrades with STLS (--ssl-reqd) and uses pop3s:// on the implicit-TLS port', async () => {
    const email = uniqueAddress('curl')
    const [id] = await ingest(email, makeMessage({ subject: 'tls' }))
    const raw = await fetchRaw(email, id)
    const viaStls = await curl([
      `pop3://localhost:${stack().pop3Port}/1`,
      '--ssl-reqd',
      '--cacert',
      stack().tlsCert,
      '--resolve',
      `localhost:${stack().pop3Port}:${HOST}`,
      '--user',
      `${email}:pw`,
    ])
    expect(viaStls.equals(raw)).toBe(true)
    const viaPop3s = await curl([
      `pop3s://localhost:${stack().pop3sPort}/1`,
      '--cacert',
      stack().tlsCert,
      '--resolve',
      `localhost:${stack().pop3sPort}:${HOST}`,
      '--user',
      `${email}:pw`,
    ])
    expect(viaPop3s.equals(raw)).toBe(true)
  })

  it('sends over smtp://, with and without STARTTLS', async () => {
    const to = uniqueAddress('curl-smtp')
    const plain = Buffer.from(makeMessage({ subject: 'curl plain', body: '.dot line\r\nbye\r\n' }))
    await curl([
      `smtp://${HOST}:${stack().smtpPort}`,
      '--mail-from',
      'curl@example.org',
      '--mail-rcpt',
      to,
      '--upload-file',
      tempFile('plain.eml', plain),
    ])
    const secure = Buffer.from(makeMessage({ subject: 'curl tls' }))
    await curl([
      `smtp://localhost:${stack().smtpPort}`,
      '--resolve',
      `localhost:${stack().smtpPort}:${HOST}`,
      '--ssl-reqd',
      '--cacert',
      stack().tlsCert,
      '--mail-from',
      'curl@example.org',
      '--mail-rcpt',
      to,
      '--upload-file',
      tempFile('secure.eml', secure),
    ])
    const listed = await listMessages(to)
    expect(listed.map((m) => m.subject).sort()).toEqual(['curl plain', 'curl tls'])
    const plainId = listed.find((m) => m.subject === 'curl plain')._id
    expect(splitTrace(await fetchRaw(to, plainId)).rest.equals(plain)).toBe(true)
  })
})

const POPLIB_SESSION = `
import json, poplib, ssl, sys
p = json.load(sys.stdin)
context = ssl.create_default_context(cafile=p['cafile'])
if p['implicit']:
    pop = poplib.POP3_SSL('localhost', p['port'], context=context)
else:
    pop = poplib.POP3(p['host'], p['port'])
    pop.host = 'localhost'  # the certificate names localhost, not 127.0.0.1
    pop.stls(context=context)
out = {'caps': sorted(pop.capa().keys())}
pop.user(p['user'])
out['pass'] = pop.pass_(p['password']).decode()
out['stat'] = list(pop.stat())
out['uidl'] = [l.decode() for l in pop.uidl()[1]]
out['list'] = [l.decode() for l in pop.list()[1]]
out['retr'] = b'\\r\\n'.join(pop.retr(1)[1]).decode('latin1')
out['top'] = [l.decode('latin1') for l in pop.top(1, 1)[1]]
out['dele'] = pop.dele(1).decode()
try:
    pop.retr(1)
    out['retr_deleted'] = 'ok'
except poplib.error_proto as e:
    out['retr_deleted'] = str(e)
out['quit'] = pop.quit().decode()
print(json.dumps(out))
`

const POPLIB_BAD_LOGIN = `
import json, poplib, sys
p = json.load(sys.stdin)
pop = poplib.POP3(p['host'], p['port'])
pop.user(p['user'])
try:
    pop.pass_(p['password'])
    print(json.dumps({'error': None}))
except poplib.error_proto as e:
    print(json.dumps({'error': e.args[0].decode()}))
`

describe("python's poplib", () => {
  for (const implicit of [false, true]) {
    it(`runs a whole session over ${implicit ? 'POP3_SSL' : 'STLS'}`, async () => {
      const owner = await createAccount()
      const email = uniqueAddress('poplib')
      await reserveAddress(email, owner.apiKey)
      const ids = [
        ...(await ingest(email, makeMessage({ subject: 'first', body: 'one\r\ntwo\r\n' }))),
        ...(await ingest(email, makeMessage({ subject: 'second' }))),
      ]
      const raw = await fetchRaw(email, ids[0], owner.apiKey)
      const result = await python(POPLIB_SESSION, {
        host: HOST,
        port: implicit ? stack().pop3sPort : stack().pop3Port,
        implicit,
        cafile: stack().tlsCert,
        user: email,
        password: owner.apiKey,
      })
      expect(result.caps).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'USER', 'PIPELINING']))
      expect(result.pass).toMatch(/^\+OK 2 messages/)
      expect(result.stat[0]).toBe(2)
      expect(result.uidl).toEqual([`1 ${ids[0]}`, `2 ${ids[1]}`])
      expect(result.list[0]).toBe(`1 ${raw.length}`)
      expect(result.retr + '\r\n').toBe(raw.toString('latin1'))
      expect(result.top.slice(-2)).toEqual(['', 'one'])
      expect(result.dele).toMatch(/^\+OK/)
      expect(result.retr_deleted).toMatch(/^b'-ERR/)
      expect(result.quit).toMatch(/^\+OK/)
      expect((await listMessages(email, owner.apiKey)).map((m) => m._id)).toEqual([ids[1]])
    })
  }

  it('gets -ERR [AUTH] for a wrong key', async () => {
    const owner = await createAccount()
    const email = uniqueAddress('poplib')
    await reserveAddress(email, owner.apiKey)
    const result = await python(POPLIB_BAD_LOGIN, {
      host: HOST,
      port: stack().pop3Port,
      user: email,
      password: 'not-the-key',
    })
    expect(result.error).toMatch(/^-ERR \[AUTH\]/)
  })
})

const SMTPLIB_SEND = `
import json, smtplib, ssl, sys
p = json.load(sys.stdin)
smtp = smtplib.SMTP(p['host'], p['port'], local_hostname='client.example')
smtp.ehlo()
out = {'features': sorted(smtp.esmtp_features.keys())}
if p['starttls']:
    smtp._host = 'localhost'  # the certificate names localhost, not 127.0.0.1
    smtp.starttls(context=ssl.create_default_context(cafile=p['cafile']))
    smtp.ehlo()
smtp.mail(p['from'])
for rcpt in p['to']:
    smtp.rcpt(rcpt)
code, reply = smtp.data(p['message'].encode('utf8'))
out['code'] = code
out['reply'] = reply.decode()
smtp.quit()
print(json.dumps(out))
`

describe("python's smtplib", () => {
  for (const starttls of [false, true]) {
    it(`stores in two inboxes${starttls ? ' over STARTTLS' : ''}`, async () => {
      const to = [uniqueAddress('smtplib'), uniqueAddress('smtplib')]
      const message = makeMessage({ subject: `smtplib ${starttls}`, body: '.hidden dot\r\nok\r\n' })
      const result = await python(SMTPLIB_SEND, {
        host: HOST,
        port: stack().smtpPort,
        starttls,
        cafile: stack().tlsCert,
        from: 'py@example.org',
        to,
        message,
      })
      expect(result.features).toEqual(
        expect.arrayContaining(['size', '8bitmime', 'smtputf8', 'pipelining', 'starttls']),
      )
      expect(result.code).toBe(250)
      const stored = storedFromReply(result.reply)
      expect(stored.count).toBe(2)
      const ids = []
      for (const rcpt of to) {
        const [listed] = await listMessages(rcpt)
        ids.push(listed._id)
        expect(splitTrace(await fetchRaw(rcpt, listed._id)).rest.toString()).toBe(message)
      }
      expect(ids).toContain(stored.first)
    })
  }
})

describe('swaks', () => {
  it('sends a file, plain and over verified STARTTLS', async () => {
    const to = uniqueAddress('swaks')
    const message = makeMessage({ subject: 'from swaks', body: 'swaks body\r\n' })
    const file = tempFile('swaks.eml', message)
    const plain = await run('swaks', [
      '--server',
      `${HOST}:${stack().smtpPort}`,
      '--from',
      'swaks@example.org',
      '--to',
      to,
      '--data',
      `@${file}`,
    ])
    expect(plain.stdout).toMatch(/<- {2}250 2\.0\.0 OK: stored as \S+/)

    const secure = await run('swaks', [
      '--server',
      `${HOST}:${stack().smtpPort}`,
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      stack().tlsCert,
      '--tls-sni',
      'localhost',
      '--from',
      'swaks@example.org',
      '--to',
      to,
      '--data',
      `@${file}`,
    ])
    expect(secure.stdout).toMatch(/TLS started/)
    expect(secure.stdout).toMatch(/<~ {2}250 2\.0\.0 OK: stored as \S+/)

    const listed = await listMessages(to)
    expect(listed).toHaveLength(2)
    // swaks adds a line of its own after the file, so compare what came from the file.
    const stored = splitTrace(await fetchRaw(to, listed[0]._id)).rest
    expect(stored.toString().startsWith(message)).toBe(true)
  })

  it('sees the Worker refusal as a 5xx and gives up', async () => {
    const result = await run('swaks', [
      '--server',
      `${HOST}:${stack().smtpPort}`,
      '--from',
      'swaks@example.org',
      '--to',
      'nobody@not-accepted.example',
    ]).catch((err) => err)
    expect(result.stdout).toMatch(/<\*\* +550 /)
  })
})
