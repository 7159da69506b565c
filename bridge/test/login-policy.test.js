// A bridge with CLEARTEXT_LOGIN=never, so a client on loopback is treated as a remote one, and
// with short timers: what a client that has not (or may not yet) log in sees.
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LineClient, stack, uniqueAddress } from './helpers.js'
import { freePort, startBridge } from './stack.js'

const LOGIN_TIMEOUT_MS = 1500
const FAILURE_DELAY_MS = 600

/** @type {Awaited<ReturnType<typeof startBridge>>} */
let bridge
const ports = { smtp: 0, pop3: 0, submission: 0 }

beforeAll(async () => {
  ports.smtp = await freePort()
  ports.pop3 = await freePort()
  ports.submission = await freePort()
  bridge = await startBridge(
    {
      BRIDGE_API_URL: stack().apiUrl,
      INGEST_TOKEN: stack().ingestToken,
      SMTP_PORT: String(ports.smtp),
      POP3_PORT: String(ports.pop3),
      POP3S_PORT: String(await freePort()),
      SUBMISSION_PORT: String(ports.submission),
      TLS_CERT: stack().tlsCert,
      TLS_KEY: stack().tlsKey,
      CLEARTEXT_LOGIN: 'never',
      POP3_LOGIN_TIMEOUT_MS: String(LOGIN_TIMEOUT_MS),
      LOGIN_FAILURE_DELAY_MS: String(FAILURE_DELAY_MS),
    },
    join(stack().dir, 'bridge-login-policy.log'),
  )
})

afterAll(async () => {
  await bridge?.stop()
})

describe('POP3 without TLS where cleartext logins are refused (security 6b)', () => {
  it('offers only STLS to log in, and refuses USER, PASS and AUTH with -ERR [AUTH]', async () => {
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    const capa = await client.multiline('CAPA')
    expect(capa.lines).toContain('STLS')
    expect(capa.lines).not.toContain('USER')
    expect(capa.lines.some((line) => line.startsWith('SASL'))).toBe(false)
    const refused = /^-ERR \[AUTH\] Plaintext authentication disallowed/
    expect(await client.command(`USER ${uniqueAddress()}`)).toMatch(refused)
    expect(await client.command('PASS pw')).toMatch(refused)
    // Refused before the "+ " continuation: a client waiting for it never sends the key.
    expect(await client.command('AUTH PLAIN')).toMatch(refused)
    client.close()
  })

  it('logs in after STLS, and answers a failed login only after the delay', async () => {
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    expect(await client.command('STLS')).toMatch(/^\+OK/)
    await client.upgrade()
    const capa = await client.multiline('CAPA')
    expect(capa.lines).toEqual(expect.arrayContaining(['USER', 'SASL PLAIN']))
    const email = uniqueAddress()
    expect(await client.command(`USER ${email}`)).toMatch(/^\+OK/)
    expect(await client.command('PASS pw')).toMatch(/^\+OK 0 messages/)
    client.close()

    const failing = await LineClient.connect(ports.pop3)
    await failing.readLine()
    await failing.command('STLS')
    await failing.upgrade()
    const started = Date.now()
    expect(await failing.command('AUTH PLAIN AGZvbwA=')).toMatch(/^-ERR \[AUTH\]/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAILURE_DELAY_MS - 50)
    failing.close()
  })
})

describe('POP3 autologout before login (RFC 1939 §3, RFC 3206)', () => {
  it('closes an unauthenticated session after POP3_LOGIN_TIMEOUT_MS, without [SYS/PERM]', async () => {
    const client = await LineClient.connect(ports.pop3)
    await client.readLine()
    expect(await client.readLine()).toBe('-ERR autologout: idle for too long')
    await client.closed()
    expect(client.ended).toBe(true)
  })
})

describe('submission without TLS where cleartext logins are refused (security 6c)', () => {
  it('does not offer AUTH before STARTTLS, answers AUTH before any 334, and MAIL with 530', async () => {
    const client = await LineClient.connect(ports.submission)
    try {
      expect((await client.smtpReply()).code).toBe(220)
      client.write('EHLO client.example\r\n')
      const ehlo = await client.smtpReply()
      expect(ehlo.text).toContain('STARTTLS')
      expect(ehlo.text).not.toMatch(/AUTH/)
      const login = await client.command('AUTH LOGIN')
      expect(login).toMatch(/^5\d\d /)
      expect(await client.command('MAIL FROM:<a@b.example>')).toMatch(/^530 5\.7\.0 /)

      client.write('STARTTLS\r\n')
      expect((await client.smtpReply()).code).toBe(220)
      await client.upgrade()
      client.write('EHLO client.example\r\n')
      expect((await client.smtpReply()).text).toContain('AUTH PLAIN LOGIN')
      expect(await client.command('AUTH LOGIN')).toMatch(/^334 /)
    } finally {
      client.close()
    }
  })
})
