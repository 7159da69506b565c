// Issue #17.6: SMTP fault injection, the Worker's side: the SMTP_FAULTS rules, validated;
// GET /api/limits and GET /internal/faults show them while on; Email Routing applies them.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../src/app'
import { faultSetting, parseFaults, pickFault, type FaultRule } from '../../src/mail/faults'
import { receiveEmail } from '../../src/mail/inbound/receive'
import { json, simpleMessage } from '../requests'

const RULES: FaultRule[] = [
  { stage: 'rcpt', code: 451, probability: 1, domain: 'flaky.example' },
  { stage: 'data', code: 554, probability: 1, domain: 'broken.example', message: 'No thanks' },
]

async function fetchWith(path: string, faults: string, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext()
  const response = await app.fetch(
    new Request(`http://mail.test${path}`, { headers }),
    { ...env, SMTP_FAULTS: faults },
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return response
}

function routedEmail(to: string, rejections: string[]) {
  const raw = new TextEncoder().encode(simpleMessage({ to }))
  return {
    from: 'sender@example.org',
    to,
    raw: new Response(raw).body as ReadableStream,
    rawSize: raw.byteLength,
    headers: new Headers(),
    setReject: (reason: string) => void rejections.push(reason),
    forward: async () => ({ messageId: '' }),
    reply: async () => ({ messageId: '' }),
  } as unknown as ForwardableEmailMessage
}

describe('SMTP_FAULTS rules (#17.6)', () => {
  it('is off when unset, empty or an empty list', () => {
    for (const source of ['', '  ', '[]']) expect(parseFaults(source).on).toBe(false)
    expect(faultSetting({}).on).toBe(false)
  })

  it('accepts valid rules and lower-cases the domain', () => {
    const setting = parseFaults(
      JSON.stringify([{ stage: 'mail', code: 421, probability: 0.25, domain: 'X.Example' }]),
    )
    expect(setting).toEqual({
      on: true,
      rules: [{ stage: 'mail', code: 421, probability: 0.25, domain: 'x.example' }],
    })
  })

  it('turns faults off with a reason for invalid JSON, stages, codes, probabilities and keys', () => {
    const cases: [string, RegExp][] = [
      ['[{stage:', /not JSON/],
      ['[{"stage":"helo","code":451,"probability":1}]', /^0\.stage/],
      ['[{"stage":"rcpt","code":250,"probability":1}]', /^0\.code/],
      ['[{"stage":"rcpt","code":451,"probability":2}]', /^0\.probability/],
      ['[{"stage":"rcpt","code":451,"probability":1,"domian":"x.example"}]', /domian/],
      ['[{"stage":"rcpt","code":451,"probability":1,"message":"a\\r\\nb"}]', /^0\.message/],
      ['{"stage":"rcpt"}', /array/],
    ]
    for (const [source, reason] of cases) {
      const setting = parseFaults(source)
      expect(setting.on, source).toBe(false)
      expect(setting.on ? '' : setting.error, source).toMatch(reason)
    }
  })

  it('picks a rule by stage and domain (subdomains included), never at probability 0', () => {
    const rules: FaultRule[] = [
      { stage: 'rcpt', code: 550, probability: 0, domain: 'never.example' },
      ...RULES,
      { stage: 'mail', code: 421, probability: 1 },
    ]
    expect(pickFault(rules, 'rcpt', ['a.flaky.example'])?.code).toBe(451)
    expect(pickFault(rules, 'rcpt', ['FLAKY.example'])?.code).toBe(451)
    expect(pickFault(rules, 'rcpt', ['notflaky.example'])).toBeNull()
    expect(pickFault(rules, 'rcpt', ['never.example'], () => 0)).toBeNull()
    expect(pickFault(rules, 'data', ['ok.example', 'broken.example'])?.code).toBe(554)
    expect(pickFault(rules, 'mail', ['anything.example'])?.code).toBe(421)
    const half: FaultRule[] = [{ stage: 'data', code: 452, probability: 0.5 }]
    expect(pickFault(half, 'data', [], () => 0.49)?.code).toBe(452)
    expect(pickFault(half, 'data', [], () => 0.5)).toBeNull()
  })
})

describe('GET /api/limits faults', () => {
  it('is null while fault injection is off (the default) or its rules are invalid', async () => {
    const body = await json<{ faults: unknown }>('/api/limits')
    expect(body.faults).toBeNull()
    const invalid = await fetchWith('/api/limits', '[{"stage":"rcpt"}]')
    expect(((await invalid.json()) as { faults: unknown }).faults).toBeNull()
  })

  it('shows the active rules while on', async () => {
    const response = await fetchWith('/api/limits', JSON.stringify(RULES))
    const body = (await response.json()) as { faults: { rules: FaultRule[]; appliesTo: string } }
    expect(body.faults.rules).toEqual(RULES)
    expect(body.faults.appliesTo).toMatch(/not stored/)
  })
})

describe('GET /internal/faults', () => {
  it('gives the bridge the validated rules, or null', async () => {
    const auth = { Authorization: 'Bearer test-ingest-token' }
    const on = await fetchWith('/internal/faults', JSON.stringify(RULES), auth)
    expect(await on.json()).toEqual({ rules: RULES, source: 'SMTP_FAULTS' })
    const off = await fetchWith('/internal/faults', '', auth)
    expect(await off.json()).toEqual({ rules: null, source: 'SMTP_FAULTS' })
  })
})

describe('Email Routing with SMTP_FAULTS', () => {
  const faulty = { ...env, SMTP_FAULTS: JSON.stringify(RULES) }

  it('rejects a permanent fault with its code and stores nothing', async () => {
    const to = 'routed@broken.example'
    const rejections: string[] = []
    await receiveEmail(routedEmail(to, rejections), faulty)
    expect(rejections).toEqual(['554 No thanks'])
    expect(await json(`/api/addresses/${to}/messages`)).toEqual([])
  })

  it('throws a temporary fault (Email Routing retries) and stores nothing', async () => {
    const to = 'routed@flaky.example'
    const rejections: string[] = []
    await expect(receiveEmail(routedEmail(to, rejections), faulty)).rejects.toThrow(/^451 /)
    expect(rejections).toEqual([])
    expect(await json(`/api/addresses/${to}/messages`)).toEqual([])
  })

  it('stores mail for domains no rule names', async () => {
    const to = 'routed@fine.example'
    await receiveEmail(routedEmail(to, []), faulty)
    expect(await json<unknown[]>(`/api/addresses/${to}/messages`)).toHaveLength(1)
  })
})

async function send(
  method: string,
  path: string,
  faults: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const ctx = createExecutionContext()
  const response = await app.fetch(
    new Request(`http://mail.test${path}`, {
      method,
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { ...env, SMTP_FAULTS: faults },
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return response
}

describe('PUT and DELETE /internal/faults: runtime rules (#17.6)', () => {
  const admin = { Authorization: 'Bearer test-admin-token' }
  const ingest = { Authorization: 'Bearer test-ingest-token' }
  const runtime: FaultRule[] = [
    { stage: 'rcpt', code: 452, probability: 1, domain: 'runtime.example' },
  ]

  it('needs the admin token: the ingest token the bridge holds cannot change the rules', async () => {
    const put = await send('PUT', '/internal/faults', '', ingest, { rules: runtime })
    expect(put.status).toBe(401)
    const del = await send('DELETE', '/internal/faults', '', ingest)
    expect(del.status).toBe(401)
    const get = await fetchWith('/internal/faults', '', ingest)
    expect(await get.json()).toEqual({ rules: null, source: 'SMTP_FAULTS' })
  })

  it('validates the rules with the SMTP_FAULTS format, storing nothing on a 400', async () => {
    for (const rules of [
      [{ stage: 'helo', code: 451, probability: 1 }],
      [{ stage: 'rcpt', code: 250, probability: 1 }],
      [{ stage: 'rcpt', code: 451, probability: 1, domian: 'x.example' }],
    ]) {
      const response = await send('PUT', '/internal/faults', '', admin, { rules })
      expect(response.status, JSON.stringify(rules)).toBe(400)
      expect(((await response.json()) as { error: string }).error).toBeTruthy()
    }
    const get = await fetchWith('/internal/faults', '', ingest)
    expect(await get.json()).toEqual({ rules: null, source: 'SMTP_FAULTS' })
  })

  it('sets rules in D1 that replace SMTP_FAULTS for the bridge, /api/limits and Email Routing until DELETE', async () => {
    const put = await send('PUT', '/internal/faults', JSON.stringify(RULES), admin, {
      rules: runtime,
    })
    expect(put.status).toBe(200)
    expect(await put.json()).toEqual({ rules: runtime, source: 'runtime' })
    // A fresh request with the var still set: the stored rules win, read from D1.
    const get = await fetchWith('/internal/faults', JSON.stringify(RULES), ingest)
    expect(await get.json()).toEqual({ rules: runtime, source: 'runtime' })
    const limits = (await (await fetchWith('/api/limits', '')).json()) as {
      faults: { rules: FaultRule[]; source: string }
    }
    expect(limits.faults).toMatchObject({ rules: runtime, source: 'runtime' })

    const to = 'routed@runtime.example'
    await expect(receiveEmail(routedEmail(to, []), env)).rejects.toThrow(/^452 /)
    expect(await json(`/api/addresses/${to}/messages`)).toEqual([])

    const del = await send('DELETE', '/internal/faults', JSON.stringify(RULES), admin)
    expect(await del.json()).toEqual({ rules: RULES, source: 'SMTP_FAULTS' })
    await receiveEmail(routedEmail(to, []), env)
    expect(await json<unknown[]>(`/api/addresses/${to}/messages`)).toHaveLength(1)
    expect(
      ((await (await fetchWith('/api/limits', '')).json()) as { faults: unknown }).faults,
    ).toBeNull()
  })

  it('turns injection off with an empty list even while SMTP_FAULTS has rules', async () => {
    await send('PUT', '/internal/faults', '', admin, { rules: [] })
    const get = await fetchWith('/internal/faults', JSON.stringify(RULES), ingest)
    expect(await get.json()).toEqual({ rules: null, source: 'runtime' })
    const rejections: string[] = []
    await receiveEmail(routedEmail('routed2@broken.example', rejections), {
      ...env,
      SMTP_FAULTS: JSON.stringify(RULES),
    })
    expect(rejections).toEqual([])
    await send('DELETE', '/internal/faults', '', admin)
  })
})
