// Issue #17.6: SMTP fault injection. A Worker of its own started with SMTP_FAULTS, and a bridge
// in front of it, so the rules cannot touch the other test files' shared stack.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LineClient, makeMessage, smtpSend, smtpStuff } from './helpers.js'
import { applyMigrations, freePort, startBridge, startWorker } from './stack.js'

const RULES = [
  { stage: 'mail', code: 421, probability: 1, domain: 'mail-fault.example' },
  { stage: 'rcpt', code: 450, probability: 1, domain: 'rcpt-fault.example', message: 'Busy' },
  { stage: 'rcpt', code: 550, probability: 0, domain: 'never.example' },
  { stage: 'data', code: 554, probability: 1, domain: 'data-fault.example', message: 'Injected' },
  { stage: 'data', code: 451, probability: 1, domain: 'data-later.example' },
]

/** @type {{ url: string, stop: () => Promise<unknown> }} */
let worker
/** @type {Awaited<ReturnType<typeof startBridge>>} */
let bridge
let smtpPort = 0
let dir = ''
const adminToken = randomBytes(24).toString('hex')

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-faults-'))
  const persistTo = join(dir, 'state')
  const ingestToken = randomBytes(24).toString('hex')
  applyMigrations(persistTo)
  worker = await startWorker({
    persistTo,
    port: await freePort(),
    adminToken,
    ingestToken,
    logFile: join(dir, 'wrangler.log'),
    vars: { SMTP_FAULTS: JSON.stringify(RULES), RATE_LIMITS: 'off' },
  })
  smtpPort = await freePort()
  bridge = await startBridge(
    {
      BRIDGE_API_URL: worker.url,
      INGEST_TOKEN: ingestToken,
      SMTP_PORT: String(smtpPort),
      POP3_PORT: String(await freePort()),
    },
    join(dir, 'bridge.log'),
  )
}, 240_000)

afterAll(async () => {
  await bridge?.stop()
  await worker?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
}, 60_000)

/** @param {string} domain */
const address = (domain) => `faults-${randomBytes(4).toString('hex')}@${domain}`

/** @param {string} email */
async function stored(email) {
  const response = await fetch(`${worker.url}/api/addresses/${email}/messages`)
  expect(response.status).toBe(200)
  return /** @type {unknown[]} */ (await response.json())
}

/** @param {string} from @param {string[]} to */
const send = (from, to) => smtpSend({ from, to, data: makeMessage({ to: to[0] }), port: smtpPort })

describe('SMTP fault injection (#17.6)', () => {
  it('GET /api/limits shows the active rules', async () => {
    const body = /** @type {any} */ (await (await fetch(`${worker.url}/api/limits`)).json())
    expect(body.faults.rules).toEqual(RULES)
    expect(body.faults.source).toBe('SMTP_FAULTS')
  })

  it('answers MAIL FROM with the rule code for the sender domain', async () => {
    const to = address('fine.example')
    const reply = await send(address('mail-fault.example'), [to])
    expect(reply.code).toBe(421)
    expect(reply.text).toMatch(/^421 4\.0\.0 Fault injected/)
    expect(await stored(to)).toEqual([])
  })

  it('answers RCPT TO with the rule code and text for that recipient domain only', async () => {
    const client = await LineClient.connect(smtpPort)
    await client.smtpReply()
    client.write('EHLO test.example\r\nMAIL FROM:<s@example.org>\r\n')
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(250)
    const faulted = address('rcpt-fault.example')
    client.write(`RCPT TO:<${faulted}>\r\n`)
    const reply = await client.smtpReply()
    expect(reply.code).toBe(450)
    expect(reply.text).toBe('450 4.0.0 Busy')
    // A subdomain matches too; another domain in the same transaction is accepted.
    client.write(`RCPT TO:<${address('sub.rcpt-fault.example')}>\r\n`)
    expect((await client.smtpReply()).code).toBe(450)
    const fine = address('fine.example')
    client.write(`RCPT TO:<${fine}>\r\nDATA\r\n`)
    expect((await client.smtpReply()).code).toBe(250)
    expect((await client.smtpReply()).code).toBe(354)
    client.write(smtpStuff(Buffer.from(makeMessage({ to: fine }))))
    client.write('.\r\n')
    expect((await client.smtpReply()).code).toBe(250)
    client.close()
    expect(await stored(fine)).toHaveLength(1)
    expect(await stored(faulted)).toEqual([])
  })

  it('never fires a rule of probability 0', async () => {
    const to = address('never.example')
    for (let i = 0; i < 5; i++) expect((await send('s@example.org', [to])).code).toBe(250)
    expect(await stored(to)).toHaveLength(5)
  })

  it('answers the end of DATA with a permanent fault and stores nothing, for any recipient', async () => {
    const fine = address('fine.example')
    const faulted = address('data-fault.example')
    const reply = await send('s@example.org', [fine, faulted])
    expect(reply.code).toBe(554)
    expect(reply.text).toBe('554 5.0.0 Injected')
    expect(await stored(fine)).toEqual([])
    expect(await stored(faulted)).toEqual([])
  })

  it('answers the end of DATA with a temporary fault and stores nothing', async () => {
    const to = address('data-later.example')
    const reply = await send('s@example.org', [to])
    expect(reply.code).toBe(451)
    expect(await stored(to)).toEqual([])
  })

  it('stores mail no rule matches', async () => {
    const to = address('fine.example')
    expect((await send('s@example.org', [to])).code).toBe(250)
    expect(await stored(to)).toHaveLength(1)
  })
})

/**
 * The RCPT reply code for `to`, asked until it is `want` or 20 s pass: the bridge re-reads the
 * rules every FAULT_RULES_TTL_MS (5 s), so a runtime change shows within one of those.
 * @param {string} to @param {number} want
 */
async function rcptCodeBecomes(to, want) {
  const deadline = Date.now() + 20_000
  let code = 0
  while (Date.now() < deadline) {
    const client = await LineClient.connect(smtpPort)
    await client.smtpReply()
    client.write(`EHLO test.example\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<${to}>\r\n`)
    await client.smtpReply()
    await client.smtpReply()
    code = (await client.smtpReply()).code
    client.write('QUIT\r\n')
    client.close()
    if (code === want) return code
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return code
}

/** @param {'PUT' | 'DELETE'} method @param {unknown} [body] */
async function setFaults(method, body) {
  const response = await fetch(`${worker.url}/internal/faults`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return /** @type {any} */ (await response.json())
}

describe('runtime fault rules, PUT /internal/faults (#17.6)', () => {
  it('a PUT rule makes RCPT answer its chosen code; DELETE goes back to SMTP_FAULTS', async () => {
    const to = address('runtime-fault.example')
    expect(await rcptCodeBecomes(to, 250)).toBe(250)
    const rules = [{ stage: 'rcpt', code: 553, probability: 1, domain: 'runtime-fault.example' }]
    expect(await setFaults('PUT', { rules })).toEqual({ rules, source: 'runtime' })
    expect(await rcptCodeBecomes(to, 553)).toBe(553)
    // The runtime rules replace the var's: its RCPT rule no longer fires.
    expect(await rcptCodeBecomes(address('rcpt-fault.example'), 250)).toBe(250)
    const body = /** @type {any} */ (await (await fetch(`${worker.url}/api/limits`)).json())
    expect(body.faults).toMatchObject({ rules, source: 'runtime' })

    expect(await setFaults('DELETE')).toEqual({ rules: RULES, source: 'SMTP_FAULTS' })
    expect(await rcptCodeBecomes(to, 250)).toBe(250)
    expect(await rcptCodeBecomes(address('rcpt-fault.example'), 450)).toBe(450)
  }, 90_000)
})
