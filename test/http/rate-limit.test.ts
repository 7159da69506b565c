import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import {
  ANONYMOUS_RATE_LIMIT,
  API_KEY_RATE_LIMIT,
  API_RATE_LIMIT_PERIOD_SECONDS,
  DEFAULT_PUBLIC_INBOX_MAX_MESSAGES,
  DEFAULT_PUBLIC_RETENTION_HOURS,
  MAX_MESSAGE_BYTES,
} from '../../src/limits'
import { clientNetwork } from '../../src/http/rate-limit'
import wranglerToml from '../../wrangler.toml?raw'
import { ADMIN, createAccount, json } from '../requests'

// The real Worker with both limiters swapped for TIGHT_RATE_LIMIT (3 requests a minute, see
// vitest.config.mts); the suite's own limits are lifted so ordinary tests never meet a 429.
const tightEnv = {
  ...env,
  API_KEY_RATE_LIMIT: env.TIGHT_RATE_LIMIT,
  ANONYMOUS_RATE_LIMIT: env.TIGHT_RATE_LIMIT,
}

function tightCall(path: string, headers: Record<string, string> = {}) {
  return worker.fetch(
    new Request(`http://mail.test${path}`, { headers }),
    tightEnv,
    createExecutionContext(),
  )
}

async function statuses(count: number, path: string, headers: Record<string, string>) {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    const response = await tightCall(path, headers)
    await response.arrayBuffer()
    out.push(response.status)
  }
  return out
}

describe('rate limits on /api/*', () => {
  it('answers 429 {error, message} with Retry-After once a client IP is over its limit', async () => {
    const ip = { 'CF-Connecting-IP': '203.0.113.10' }
    expect(await statuses(3, '/api/addresses/rl@example.com/messages', ip)).toEqual([200, 200, 200])
    const response = await tightCall('/api/addresses/rl@example.com/messages', ip)
    expect(response.status).toBe(429)
    expect(response.headers.get('Retry-After')).toBe(String(API_RATE_LIMIT_PERIOD_SECONDS))
    expect(await response.json()).toEqual({
      error: 'Too Many Requests',
      message: expect.stringMatching(/retry in 60 seconds/),
    })
    // Another client is not affected.
    expect(await statuses(1, '/api/limits', { 'CF-Connecting-IP': '203.0.113.11' })).toEqual([200])
  })

  it('counts an IPv6 client per /64', async () => {
    expect(
      await statuses(2, '/api/limits', { 'CF-Connecting-IP': '2001:db8:aa:1::1' }).then(() =>
        statuses(2, '/api/limits', { 'CF-Connecting-IP': '2001:db8:aa:1:ffff::9' }),
      ),
    ).toEqual([200, 429])
    expect(await statuses(1, '/api/limits', { 'CF-Connecting-IP': '2001:db8:aa:2::1' })).toEqual([
      200,
    ])
    expect(clientNetwork('2001:DB8:0aa:1:2:3:4:5')).toBe('2001:db8:aa:1::/64')
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64')
    expect(clientNetwork(undefined)).toBe('unknown')
  })

  it('gives each API key its own budget, whatever the IP', async () => {
    const account = await createAccount()
    const headers = { 'Mailsac-Key': account.apiKey, 'CF-Connecting-IP': '203.0.113.20' }
    await statuses(3, '/api/limits', { 'CF-Connecting-IP': '203.0.113.20' })
    expect(await statuses(4, '/api/me', headers)).toEqual([200, 200, 200, 429])
  })

  it('does not limit /internal/*', async () => {
    const headers = { ...ADMIN, 'CF-Connecting-IP': '203.0.113.30' }
    expect(await statuses(5, '/internal/admin/denylist', headers)).toEqual([
      200, 200, 200, 200, 200,
    ])
  })

  it('rejects a window the binding does not support when built', async () => {
    const { rateLimit } = await import('../../src/http/rate-limit')
    expect(() =>
      rateLimit({
        perAccount: (e) => e.TIGHT_RATE_LIMIT,
        perClient: (e) => e.TIGHT_RATE_LIMIT,
        periodSeconds: 30,
      }),
    ).toThrow(/10 or 60/)
  })
})

describe('GET /api/limits', () => {
  it('publishes retention, size, list and rate limits', async () => {
    const limits = await json('/api/limits')
    expect(limits).toMatchObject({
      retention: {
        publicMessageHours: DEFAULT_PUBLIC_RETENTION_HOURS,
        publicInboxMaxMessages: DEFAULT_PUBLIC_INBOX_MAX_MESSAGES,
      },
      messages: { maxBytes: MAX_MESSAGE_BYTES },
      lists: { messages: { maxLimit: 1000 }, mailstats: { defaultLimit: 20, maxLimit: 1000 } },
      rateLimits: {
        apiKey: { requests: API_KEY_RATE_LIMIT, periodSeconds: API_RATE_LIMIT_PERIOD_SECONDS },
        anonymous: { requests: ANONYMOUS_RATE_LIMIT, periodSeconds: API_RATE_LIMIT_PERIOD_SECONDS },
      },
    })
  })

  it('reports the limits wrangler.toml configures on the bindings', () => {
    const binding = (name: string) => {
      const match = new RegExp(
        `name = "${name}"[^[]*?simple = \\{ limit = (\\d+), period = (\\d+) \\}`,
      ).exec(wranglerToml)
      expect(match, `[[ratelimits]] ${name} in wrangler.toml`).not.toBeNull()
      return { limit: Number(match![1]), period: Number(match![2]) }
    }
    expect(binding('API_KEY_RATE_LIMIT')).toEqual({
      limit: API_KEY_RATE_LIMIT,
      period: API_RATE_LIMIT_PERIOD_SECONDS,
    })
    expect(binding('ANONYMOUS_RATE_LIMIT')).toEqual({
      limit: ANONYMOUS_RATE_LIMIT,
      period: API_RATE_LIMIT_PERIOD_SECONDS,
    })
    const retention = /PUBLIC_RETENTION_HOURS = "(\d+)"/.exec(wranglerToml)
    expect(Number(retention?.[1])).toBe(DEFAULT_PUBLIC_RETENTION_HOURS)
  })
})

describe('requests relayed by the POP3 bridge', () => {
  it('count against the client the bridge names, but only with the bridge token', async () => {
    const relayed = (ip: string, token = env.INGEST_TOKEN) => ({
      'CF-Connecting-IP': '198.51.100.1',
      'X-Bridge-Token': token,
      'X-Bridge-Client-IP': ip,
    })
    expect(await statuses(3, '/api/limits', relayed('203.0.113.40'))).toEqual([200, 200, 200])
    expect(await statuses(1, '/api/limits', relayed('203.0.113.40'))).toEqual([429])
    // Another client behind the same bridge has its own budget.
    expect(await statuses(1, '/api/limits', relayed('203.0.113.41'))).toEqual([200])
    // Without the right token the header is ignored: the request counts against its sender.
    expect(await statuses(3, '/api/limits', relayed('203.0.113.42', 'forged'))).toEqual([
      200, 200, 200,
    ])
    expect(await statuses(1, '/api/limits', relayed('203.0.113.43', 'forged'))).toEqual([429])
  })
})

describe('failed authentication and sign-in', () => {
  it('#13.11 counts wrong-key requests per client, so a key guesser meets 429s', async () => {
    const ip = { 'CF-Connecting-IP': '198.51.100.40' }
    const wrong = { ...ip, 'Mailsac-Key': 'k'.repeat(64) }
    expect(await statuses(4, '/api/addresses', wrong)).toEqual([401, 401, 401, 429])
    // The budget is the client's: anonymous requests from it are refused too, not others'.
    expect(await statuses(1, '/api/limits', ip)).toEqual([429])
    expect(await statuses(1, '/api/limits', { 'CF-Connecting-IP': '198.51.100.41' })).toEqual([200])
  })

  it('#13.11 counts sign-in attempts per client', async () => {
    const account = await createAccount()
    const attempt = async () => {
      const response = await worker.fetch(
        new Request('http://mail.test/api/auth/login', {
          method: 'POST',
          headers: { 'CF-Connecting-IP': '198.51.100.42', 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: account.id, apiKey: 'wrong' }),
        }),
        tightEnv,
        createExecutionContext(),
      )
      await response.arrayBuffer()
      return response.status
    }
    const results = []
    for (let i = 0; i < 4; i++) results.push(await attempt())
    expect(results).toEqual([401, 401, 401, 429])
  })
})

describe('RATE_LIMITS = "off" (npm start’s local stack, #16.10)', () => {
  it('lifts the limits and says so in GET /api/limits', async () => {
    const offEnv = { ...tightEnv, RATE_LIMITS: 'off' }
    const call = async (path: string) => {
      const response = await worker.fetch(
        new Request(`http://mail.test${path}`, { headers: { 'CF-Connecting-IP': '203.0.113.77' } }),
        offEnv,
        createExecutionContext(),
      )
      return response
    }
    const seen: number[] = []
    for (let i = 0; i < 6; i++) {
      const response = await call('/api/addresses/lifted@limits.test/messages')
      await response.arrayBuffer()
      seen.push(response.status)
    }
    expect(seen).toEqual([200, 200, 200, 200, 200, 200])
    expect(await (await call('/api/limits')).json()).toMatchObject({
      rateLimits: { enabled: false },
    })
    expect(await json('/api/limits')).toMatchObject({ rateLimits: { enabled: true } })
  })
})
