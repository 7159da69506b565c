import { beforeEach, describe, expect, it } from 'vitest'
import { clearDnsCache, DnsLookupError, dohResolver, lookupMx, lookupTxt } from '../../src/mail/dns'

// No network here: every lookup goes to a stub fetch that answers as DoH JSON does.

type Call = { url: URL; accept: string | null }

function stubDoh(answer: (url: URL) => unknown, calls: Call[] = []): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input))
    calls.push({ url, accept: new Headers(init?.headers).get('accept') })
    return Response.json(answer(url))
  }
}

beforeEach(() => clearDnsCache())

describe('dohResolver (issue #16 item 2)', () => {
  it('asks the endpoint for the name and type as DNS JSON and returns MX hosts in order', async () => {
    const calls: Call[] = []
    const resolver = dohResolver({
      endpoint: 'https://doh.test/dns-query',
      fetch: stubDoh(
        () => ({
          Status: 0,
          Answer: [
            { type: 5, data: 'alias.example.', TTL: 300 },
            { type: 15, data: '20 MX2.Example.org.', TTL: 300 },
            { type: 15, data: '10 mx1.example.org.', TTL: 300 },
          ],
        }),
        calls,
      ),
    })
    expect(await lookupMx(resolver, 'Example.org')).toEqual([
      { preference: 10, exchange: 'mx1.example.org' },
      { preference: 20, exchange: 'mx2.example.org' },
    ])
    expect(calls[0].url.origin + calls[0].url.pathname).toBe('https://doh.test/dns-query')
    expect(calls[0].url.searchParams.get('name')).toBe('example.org')
    expect(calls[0].url.searchParams.get('type')).toBe('MX')
    expect(calls[0].accept).toBe('application/dns-json')
  })

  it('joins the quoted strings of a TXT record', async () => {
    const resolver = dohResolver({
      fetch: stubDoh(() => ({
        Status: 0,
        Answer: [{ type: 16, data: '"mailsac-edge-verification=" "abc\\"d"', TTL: 60 }],
      })),
    })
    expect(await lookupTxt(resolver, 'txt.example')).toEqual(['mailsac-edge-verification=abc"d'])
  })

  it('answers no records for NXDOMAIN, and an error for SERVFAIL', async () => {
    const resolver = dohResolver({
      fetch: stubDoh((url) => ({
        Status: url.searchParams.get('name') === 'gone.example' ? 3 : 2,
      })),
    })
    expect(await resolver.resolve('gone.example', 'MX')).toEqual([])
    await expect(resolver.resolve('broken.example', 'MX')).rejects.toThrow(/RCODE 2/)
  })

  it('caches an answer for its TTL, then asks again', async () => {
    let clock = 1_000_000
    const calls: Call[] = []
    const resolver = dohResolver({
      now: () => clock,
      fetch: stubDoh(() => ({ Status: 0, Answer: [{ type: 15, data: '10 mx.', TTL: 30 }] }), calls),
    })
    await resolver.resolve('cached.example', 'MX')
    clock += 29_000
    await resolver.resolve('cached.example', 'MX')
    expect(calls).toHaveLength(1)
    clock += 2_000
    await resolver.resolve('cached.example', 'MX')
    expect(calls).toHaveLength(2)
  })

  it('gives up after its timeout when the resolver never answers (the timeout path)', async () => {
    const neverAnswers: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason))
      })
    const resolver = dohResolver({ fetch: neverAnswers, timeoutMs: 50 })
    const failure = await resolver.resolve('slow.example', 'MX').catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(DnsLookupError)
    expect((failure as Error).message).toBe(
      'DNS MX lookup of slow.example failed: no answer within 50 ms',
    )
  })

  it('does not cache a failure', async () => {
    let fail = true
    const resolver = dohResolver({
      fetch: async () =>
        fail ? new Response('busy', { status: 503 }) : Response.json({ Status: 0, Answer: [] }),
    })
    await expect(resolver.resolve('flaky.example', 'TXT')).rejects.toThrow(/HTTP 503/)
    fail = false
    expect(await resolver.resolve('flaky.example', 'TXT')).toEqual([])
  })
})
