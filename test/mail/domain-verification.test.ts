import { describe, expect, it } from 'vitest'
import { DnsLookupError, type Resolver } from '../../src/mail/dns'
import {
  checkDomain,
  EMAIL_ROUTING_MX,
  parseAcceptedMxHosts,
} from '../../src/mail/domain-verification'

// Issue #16 item 8: the DNS check of a domain, with a stub resolver (no network).

const TOKEN = 'tok3n'

function resolver(records: { MX?: string[]; TXT?: string[] } | 'timeout'): Resolver {
  return {
    async resolve(name, type) {
      if (records === 'timeout') throw new DnsLookupError(name, type, 'no answer within 3000 ms')
      return records[type] ?? []
    },
  }
}

const ROUTING = EMAIL_ROUTING_MX.map((host, i) => `${i + 10} ${host}.`)

describe('checkDomain (issue #16 item 8)', () => {
  it('verifies a domain whose MX is Email Routing’s and whose TXT carries its token', async () => {
    const check = await checkDomain(
      resolver({
        MX: ROUTING,
        TXT: [
          '"v=spf1 include:_spf.mx.cloudflare.net ~all"',
          `"mailsac-edge-verification=${TOKEN}"`,
        ],
      }),
      'good.example',
      TOKEN,
    )
    expect(check).toEqual({ verified: true, verifiedMx: true, errors: [] })
  })

  it('says in plain words that mail will not arrive when MX points elsewhere', async () => {
    const check = await checkDomain(
      resolver({ MX: ['10 mx.google.com.'], TXT: [`"mailsac-edge-verification=${TOKEN}"`] }),
      'example.com',
      TOKEN,
    )
    expect(check.verified).toBe(true)
    expect(check.verifiedMx).toBe(false)
    expect(check.errors).toEqual([
      'MX of example.com points at mx.google.com, not at Cloudflare Email Routing (route1.mx.cloudflare.net, route2.mx.cloudflare.net, route3.mx.cloudflare.net) nor at a bridge host listed in ACCEPTED_MX_HOSTS (none listed): mail for it will not reach this Worker.',
    ])
  })

  it('flags an MX beside Email Routing’s, a missing MX and a missing or stale token', async () => {
    const mixed = await checkDomain(
      resolver({
        MX: [...ROUTING, '50 backup.example.net.'],
        TXT: ['"mailsac-edge-verification=old"'],
      }),
      'mixed.example',
      TOKEN,
    )
    expect(mixed.verifiedMx).toBe(false)
    expect(mixed.errors[0]).toMatch(
      /points at backup\.example\.net beside route1\.mx\.cloudflare\.net, route2/,
    )
    expect(mixed.errors[1]).toBe(
      "The TXT record of mixed.example is mailsac-edge-verification=old, not mailsac-edge-verification=tok3n: replace it with this domain's token.",
    )
    const bare = await checkDomain(resolver({}), 'bare.example', TOKEN)
    expect(bare).toMatchObject({ verified: false, verifiedMx: false })
    expect(bare.errors).toEqual([
      expect.stringMatching(/^bare\.example has no MX record: enable Email Routing/),
      "No TXT record mailsac-edge-verification=tok3n at bare.example: add it to show the domain's DNS is yours.",
    ])
  })

  it('reports a DNS timeout as unknown, not as a wrong record', async () => {
    const check = await checkDomain(resolver('timeout'), 'slow.example', TOKEN)
    expect(check).toMatchObject({ verified: false, verifiedMx: false })
    expect(check.errors[0]).toBe(
      'Could not look up the MX of slow.example (DNS MX lookup of slow.example failed: no answer within 3000 ms): the check says nothing about it; try again.',
    )
  })
})

describe('MX at the operator’s bridge, ACCEPTED_MX_HOSTS (issue #16 item 8)', () => {
  const TXT = [`"mailsac-edge-verification=${TOKEN}"`]

  it('reads host names and suffixes, and drops what cannot be a host', () => {
    expect(
      parseAcceptedMxHosts(' MX.Bridge.example. , *.relay.example,.edge.example,,http://x/'),
    ).toEqual(['mx.bridge.example', '.relay.example', '.edge.example'])
    expect(parseAcceptedMxHosts(undefined)).toEqual([])
  })

  it('accepts an MX at a listed bridge host or under a listed suffix, alone or beside Email Routing', async () => {
    const bridges = parseAcceptedMxHosts('mx.bridge.example,.relay.example')
    for (const mx of [
      ['10 mx.bridge.example.'],
      ['10 in1.relay.example.', '20 in2.relay.example.'],
      [...ROUTING, '50 mx.bridge.example.'],
    ]) {
      const check = await checkDomain(resolver({ MX: mx, TXT }), 'bridged.example', TOKEN, bridges)
      expect(check, mx.join()).toEqual({ verified: true, verifiedMx: true, errors: [] })
    }
  })

  it('refuses a bridge MX that is not listed, naming both accepted kinds in plain words', async () => {
    const mx = { MX: ['10 mx.bridge.example.'], TXT }
    const unlisted = await checkDomain(resolver(mx), 'bridged.example', TOKEN)
    expect(unlisted.verifiedMx).toBe(false)
    expect(unlisted.errors).toEqual([
      'MX of bridged.example points at mx.bridge.example, not at Cloudflare Email Routing (route1.mx.cloudflare.net, route2.mx.cloudflare.net, route3.mx.cloudflare.net) nor at a bridge host listed in ACCEPTED_MX_HOSTS (none listed): mail for it will not reach this Worker.',
    ])
    const other = await checkDomain(resolver(mx), 'bridged.example', TOKEN, ['.relay.example'])
    expect(other.errors[0]).toContain(
      'nor at a bridge host of ACCEPTED_MX_HOSTS (.relay.example): mail for it will not reach this Worker.',
    )
    // A suffix matches hosts under it, not a name that merely ends the same way.
    const lookalike = await checkDomain(
      resolver({ MX: ['10 evilrelay.example.'], TXT }),
      'bridged.example',
      TOKEN,
      ['.relay.example'],
    )
    expect(lookalike.verifiedMx).toBe(false)
  })
})
