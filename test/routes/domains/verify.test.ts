import { env } from 'cloudflare:workers'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import worker from '../../../src/index'
import { ADMIN, call, createAccount, json } from '../../requests'
import { stubDns } from '../../stub-dns'
import { expectMailsacShape, mailsacClient } from '../../http/openapi/mailsac-client'

// Issue #16 item 8: domains that verify themselves, with stubbed DNS.

let owner: Awaited<ReturnType<typeof createAccount>>
let other: Awaited<ReturnType<typeof createAccount>>
type DomainBody = {
  _id: string
  verified: boolean
  verifiedMx: boolean
  verificationTxt: string
  lastVerificationErrors: string | null
  lastVerified: string | null
}

async function assign(domain: string, account: string) {
  return json<DomainBody>('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain, account }),
  })
}

beforeAll(async () => {
  owner = await createAccount()
  other = await createAccount()
})

afterEach(() => vi.restoreAllMocks())

const ROUTING = ['10 route1.mx.cloudflare.net.', '20 route2.mx.cloudflare.net.']

describe('POST /api/domains/:domain/verify (issue #16 item 8)', () => {
  it('gives a new domain its own TXT token, unverified until a check finds it', async () => {
    const first = await assign('fresh-verify.test', owner.id)
    const second = await assign('fresh-verify2.test', owner.id)
    expect(first.verificationTxt).toMatch(/^mailsac-edge-verification=[A-Za-z0-9]{32}$/)
    expect(second.verificationTxt).not.toBe(first.verificationTxt)
    expect(first).toMatchObject({
      verified: false,
      verifiedMx: false,
      lastVerificationErrors: null,
      lastVerified: null,
    })
  })

  it('records a passing check, which GET /api/domains then shows (Mailsac’s Domain shape)', async () => {
    const { verificationTxt } = await assign('pass-verify.test', owner.id)
    stubDns({ 'pass-verify.test': { MX: ROUTING, TXT: [`"${verificationTxt}"`] } })
    const response = await call('/api/domains/pass-verify.test/verify', {
      method: 'POST',
      headers: owner.headers,
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      verified: true,
      verifiedMx: true,
      lastVerificationErrors: '',
    })
    const listed = await mailsacClient(owner.apiKey).domains.listDomains()
    expectMailsacShape('GET /domains', listed.data)
    expect(listed.data.find((d) => d._id === 'pass-verify.test')).toMatchObject({
      verified: true,
      verifiedMx: true,
    })
    const detail = await mailsacClient(owner.apiKey).domains.getDomain('pass-verify.test')
    expectMailsacShape('GET /domains/{domain}', detail.data)
  })

  it('records in plain words that mail will not arrive, and a later fix clears it', async () => {
    const { verificationTxt } = await assign('wrong-mx.test', owner.id)
    stubDns({ 'wrong-mx.test': { MX: ['10 mx.google.com.'], TXT: [`"${verificationTxt}"`] } })
    const failed = await json<DomainBody>('/api/domains/wrong-mx.test/verify', {
      method: 'POST',
      headers: owner.headers,
    })
    expect(failed).toMatchObject({ verified: true, verifiedMx: false })
    expect(failed.lastVerificationErrors).toBe(
      'MX of wrong-mx.test points at mx.google.com, not at Cloudflare Email Routing (route1.mx.cloudflare.net, route2.mx.cloudflare.net, route3.mx.cloudflare.net) nor at a bridge host listed in ACCEPTED_MX_HOSTS (none listed): mail for it will not reach this Worker.',
    )
    stubDns({ 'wrong-mx.test': { MX: ROUTING, TXT: [`"${verificationTxt}"`] } })
    const fixed = await json<DomainBody>('/internal/admin/domains/wrong-mx.test/verify', {
      method: 'POST',
      headers: ADMIN,
    })
    expect(fixed).toMatchObject({ verified: true, verifiedMx: true, lastVerificationErrors: '' })
  })

  it('answers 401 for another account’s domain and checks nothing', async () => {
    await assign('not-yours-verify.test', owner.id)
    const asked = stubDns({})
    const response = await call('/api/domains/not-yours-verify.test/verify', {
      method: 'POST',
      headers: other.headers,
    })
    expect(response.status).toBe(401)
    expect(asked).toEqual([])
  })

  it('lists every domain with its check for the operator', async () => {
    await assign('listed-verify.test', other.id)
    const all = await json<DomainBody[]>('/internal/admin/domains', { headers: ADMIN })
    expect(all.map((d) => d._id)).toContain('listed-verify.test')
    expect(
      (await call('/internal/admin/domains/nope.test/verify', { method: 'POST', headers: ADMIN }))
        .status,
    ).toBe(404)
  })

  it('accepts an MX at a bridge host of ACCEPTED_MX_HOSTS, on both verify routes', async () => {
    const { verificationTxt } = await assign('bridge-mx.test', owner.id)
    stubDns({ 'bridge-mx.test': { MX: ['10 smtp.mail.example.'], TXT: [`"${verificationTxt}"`] } })
    // Without the setting the bridge's MX is not this service's.
    const refused = await json<DomainBody>('/api/domains/bridge-mx.test/verify', {
      method: 'POST',
      headers: owner.headers,
    })
    expect(refused.verifiedMx).toBe(false)
    expect(refused.lastVerificationErrors).toContain(
      'nor at a bridge host listed in ACCEPTED_MX_HOSTS',
    )
    const bindings = { ...env, ACCEPTED_MX_HOSTS: 'other.example, .mail.example' }
    for (const [path, headers] of [
      ['/api/domains/bridge-mx.test/verify', owner.headers],
      ['/internal/admin/domains/bridge-mx.test/verify', ADMIN],
    ] as const) {
      const request = new Request(`http://mail.test${path}`, { method: 'POST', headers })
      const response = await worker.fetch(request, bindings)
      expect(await response.json(), path).toMatchObject({
        verified: true,
        verifiedMx: true,
        lastVerificationErrors: '',
      })
    }
  })
})
