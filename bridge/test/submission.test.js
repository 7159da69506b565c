import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { HOST, LineClient, listMessages, stack, uniqueAddress } from './helpers.js'

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 */
async function admin(method, path, body) {
  const response = await fetch(`${stack().apiUrl}/internal/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${stack().adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return /** @type {any} */ (await response.json())
}

/**
 * An account with `sends` credits and a domain it may send from.
 * @param {number} sends
 */
async function sendingAccount(sends) {
  const username = `send-${randomBytes(5).toString('hex')}`
  const { apiKey } = await admin('POST', '/accounts', { username, sendsRemaining: sends })
  const domain = `${username}.example`
  await admin('POST', '/domains', { domain, account: username })
  await admin('PUT', `/domains/${domain}/sending`, { verified: true })
  return { username, apiKey, from: `app@${domain}` }
}

/**
 * Runs swaks against the submission port.
 * @param {string[]} args
 */
function swaks(args) {
  const result = spawnSync(
    'swaks',
    ['--server', `${HOST}:${stack().submissionPort}`, '--timeout', '30', ...args],
    { encoding: 'utf8', timeout: 60_000 },
  )
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` }
}

/** @type {{ username: string, apiKey: string, from: string }} */
let account

beforeAll(async () => {
  account = await sendingAccount(10)
})

describe('SMTP submission (AUTH with username and API key)', () => {
  for (const [method, tls] of /** @type {const} */ ([
    ['PLAIN', false],
    ['LOGIN', true],
  ])) {
    it(`delivers to a local inbox with swaks --auth ${method}${tls ? ' over STARTTLS' : ''}`, async () => {
      const to = uniqueAddress('submit')
      const subject = `submitted with ${method}`
      const { status, output } = swaks([
        ...(tls ? ['--tls'] : []),
        '--auth',
        method,
        '--auth-user',
        account.username,
        '--auth-password',
        account.apiKey,
        '--from',
        account.from,
        '--to',
        to,
        '--header',
        `Subject: ${subject}`,
        '--body',
        'Sent through the submission port.',
      ])
      expect(output).toMatch(/<[-~] {2}250 OK: sent as \w+ </)
      expect(status).toBe(0)
      const [message] = await listMessages(to)
      expect(message.subject).toBe(subject)
      expect(message.from).toEqual([{ address: account.from, name: '' }])
    })
  }

  it('refuses a wrong API key with 535', () => {
    const { status, output } = swaks([
      '--auth',
      'PLAIN',
      '--auth-user',
      account.username,
      '--auth-password',
      'x'.repeat(64),
      '--from',
      account.from,
      '--to',
      uniqueAddress('submit'),
    ])
    expect(output).toMatch(/<[*~]\* 535 /)
    expect(status).not.toBe(0)
  })

  it("refuses another account's key for this username with 535", async () => {
    const other = await sendingAccount(1)
    const { output } = swaks([
      '--auth',
      'LOGIN',
      '--auth-user',
      account.username,
      '--auth-password',
      other.apiKey,
      '--from',
      account.from,
      '--to',
      uniqueAddress('submit'),
    ])
    expect(output).toMatch(/<[*~]\* 535 /)
  })

  it("answers 5xx with the Worker's reason when the account has no credits", async () => {
    const broke = await sendingAccount(0)
    const to = uniqueAddress('submit')
    const { status, output } = swaks([
      '--auth',
      'PLAIN',
      '--auth-user',
      broke.username,
      '--auth-password',
      broke.apiKey,
      '--from',
      broke.from,
      '--to',
      to,
    ])
    expect(output).toMatch(
      /<[*~]\* 554 5\.0\.0 You must purchase more outgoing messages before you can send/,
    )
    expect(status).not.toBe(0)
    expect(await listMessages(to)).toEqual([])
  })

  it('answers 550 for a sender domain the account may not send from', () => {
    const { output } = swaks([
      '--auth',
      'PLAIN',
      '--auth-user',
      account.username,
      '--auth-password',
      account.apiKey,
      '--from',
      'someone@not-verified.example',
      '--to',
      uniqueAddress('submit'),
    ])
    expect(output).toMatch(/<[*~]\* 550 5\.7\.1 Sending from not-verified\.example is not allowed/)
  })

  it('answers the third failed AUTH with 421 and closes (security 6d)', async () => {
    const client = await LineClient.connect(stack().submissionPort)
    try {
      expect((await client.smtpReply()).code).toBe(220)
      client.write('EHLO client.example\r\n')
      await client.smtpReply()
      const bad = Buffer.from(`\0${account.username}\0${'x'.repeat(64)}`).toString('base64')
      expect((await client.command(`AUTH PLAIN ${bad}`)).slice(0, 3)).toBe('535')
      expect((await client.command(`AUTH PLAIN ${bad}`)).slice(0, 3)).toBe('535')
      expect(await client.command(`AUTH PLAIN ${bad}`)).toMatch(/^421 4\.7\.0 Too many failed/)
      await client.closed()
      expect(client.ended).toBe(true)
    } finally {
      client.close()
    }
  })

  it('refuses MAIL FROM before AUTH and a 4th recipient', async () => {
    const client = await LineClient.connect(stack().submissionPort)
    try {
      expect((await client.smtpReply()).code).toBe(220)
      client.write('EHLO client.example\r\n')
      const ehlo = await client.smtpReply()
      expect(ehlo.text).toContain('AUTH PLAIN LOGIN')
      expect((await client.command('MAIL FROM:<a@b.example>')).slice(0, 3)).toBe('530')
      const plain = Buffer.from(`\0${account.username}\0${account.apiKey}`).toString('base64')
      expect((await client.command(`AUTH PLAIN ${plain}`)).slice(0, 3)).toBe('235')
      expect((await client.command(`MAIL FROM:<${account.from}>`)).slice(0, 3)).toBe('250')
      for (let i = 0; i < 3; i++) {
        expect((await client.command(`RCPT TO:<${uniqueAddress('r')}>`)).slice(0, 3)).toBe('250')
      }
      expect((await client.command(`RCPT TO:<${uniqueAddress('r')}>`)).slice(0, 3)).toBe('452')
    } finally {
      client.close()
    }
  })
})
