import { createScheduledController } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import wranglerToml from '../../wrangler.toml?raw'
import { database } from '../../src/db/client'
import { findDomain } from '../../src/db/queries/domains'
import worker from '../../src/index'
import {
  DOMAIN_RECHECK_CONCURRENCY,
  DOMAIN_RECHECK_INTERVAL_HOURS,
  DOMAIN_RECHECK_MAX_PER_RUN,
} from '../../src/limits'
import { dohResolver } from '../../src/mail/dns'
import { DOMAIN_RECHECK_CRON, recheckDueDomains } from '../../src/mail/domain-recheck'
import { verifyDomain } from '../../src/mail/domain-verification'
import { Invocation } from '../platform/limits'
import { WORKERS } from '../platform/cloudflare-limits'
import { ADMIN, createAccount, json } from '../requests'
import { stubDns } from '../stub-dns'

// The cron's re-check of domain DNS (MX and TXT token), with the stubbed resolver.

const HOUR = 3_600_000
const ROUTING = ['10 route1.mx.cloudflare.net.', '20 route2.mx.cloudflare.net.']

afterEach(() => vi.restoreAllMocks())

async function assign(domain: string) {
  const owner = await createAccount()
  return json<{ verificationTxt: string }>('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain, account: owner.id }),
  })
}

/** Runs the Worker's scheduled() handler for the re-check trigger at `at`. */
async function cron(at: Date, bindings: Env = env) {
  const controller = createScheduledController({
    scheduledTime: at.getTime(),
    cron: DOMAIN_RECHECK_CRON,
  })
  await worker.scheduled(controller, bindings)
}

const row = async (domain: string) => (await findDomain(database(env.DB), domain))!

describe('domain re-check on the cron', () => {
  it('has its own trigger in wrangler.toml, beside retention’s', () => {
    const crons = wranglerToml.match(/^crons = (\[.*\])$/m)?.[1]
    expect(JSON.parse(crons ?? '[]')).toEqual(['*/5 * * * *', DOMAIN_RECHECK_CRON])
  })

  it('re-checks a due domain (never checked, or checked too long ago) and records the result', async () => {
    const now = new Date('2026-06-01T12:17:00Z')
    const fresh = await assign('due-never.test')
    const { verificationTxt } = await assign('due-stale.test')
    // due-stale was verified 25 hours ago; its MX has since moved away.
    stubDns({ 'due-stale.test': { MX: ROUTING, TXT: [`"${verificationTxt}"`] } })
    const stale = await verifyDomain(
      database(env.DB),
      { resolver: dohResolver({ endpoint: env.DOH_ENDPOINT }), bridgeHosts: [] },
      await row('due-stale.test'),
      new Date(now.getTime() - (DOMAIN_RECHECK_INTERVAL_HOURS + 1) * HOUR),
    )
    expect(stale.domain).toMatchObject({ verified: true, verifiedMx: true })

    const asked = stubDns({
      'due-never.test': { MX: ROUTING, TXT: [`"${fresh.verificationTxt}"`] },
      'due-stale.test': { MX: ['10 mx.google.com.'], TXT: [`"${verificationTxt}"`] },
    })
    await cron(now)
    expect(asked).toEqual(expect.arrayContaining(['MX due-never.test', 'MX due-stale.test']))
    expect(await row('due-never.test')).toMatchObject({
      verified: true,
      verifiedMx: true,
      lastVerified: now,
      lastVerificationErrors: '',
    })
    const moved = await row('due-stale.test')
    expect(moved).toMatchObject({ verified: true, verifiedMx: false, lastVerified: now })
    expect(moved.lastVerificationErrors).toMatch(/^MX of due-stale\.test points at mx\.google\.com/)
  })

  it('leaves a recently checked domain alone', async () => {
    const now = new Date('2026-06-02T12:17:00Z')
    const { verificationTxt } = await assign('recent.test')
    const checkedAt = new Date(now.getTime() - HOUR)
    stubDns({ 'recent.test': { MX: ROUTING, TXT: [`"${verificationTxt}"`] } })
    await verifyDomain(
      database(env.DB),
      { resolver: dohResolver({ endpoint: env.DOH_ENDPOINT }), bridgeHosts: [] },
      await row('recent.test'),
      checkedAt,
    )
    const asked = stubDns({ 'recent.test': { MX: ['10 mx.google.com.'], TXT: [] } })
    await cron(now)
    expect(asked.filter((q) => q.endsWith(' recent.test'))).toEqual([])
    expect(await row('recent.test')).toMatchObject({ verifiedMx: true, lastVerified: checkedAt })
  })

  it('uses ACCEPTED_MX_HOSTS as the verify routes do', async () => {
    const now = new Date('2026-06-03T12:17:00Z')
    const { verificationTxt } = await assign('bridge-only.test')
    stubDns({ 'bridge-only.test': { MX: ['10 smtp.bridge.test.'], TXT: [`"${verificationTxt}"`] } })
    await cron(now, { ...env, ACCEPTED_MX_HOSTS: '.bridge.test' })
    expect(await row('bridge-only.test')).toMatchObject({ verifiedMx: true, lastVerified: now })
  })

  it(`checks at most ${DOMAIN_RECHECK_MAX_PER_RUN} domains a run, within Workers Free’s limits, and the rest next run`, async () => {
    const start = new Date('2026-06-04T12:17:00Z')
    const names = Array.from({ length: DOMAIN_RECHECK_MAX_PER_RUN + 3 }, (_, i) => `bound${i}.test`)
    const zone: Parameters<typeof stubDns>[0] = {}
    for (const name of names) {
      const { verificationTxt } = await assign(name)
      zone[name] = { MX: ROUTING, TXT: [`"${verificationTxt}"`] }
    }
    const asked = stubDns(zone)
    const invocation = new Invocation('free')
    const bound = invocation.env()
    const first = await recheckDueDomains(
      database(bound.DB),
      checker(invocation.fetch((input, init) => globalThis.fetch(input, init))),
      new Date(start.getTime() + 60_000),
    )
    invocation.assertWithinLimits()
    // Never-checked domains go first: these ten are this test's.
    expect(first.checked.map((c) => c.domain)).toEqual(
      [...names].sort().slice(0, DOMAIN_RECHECK_MAX_PER_RUN),
    )
    expect(first.backlog).toBe(true)
    expect(asked).toHaveLength(2 * DOMAIN_RECHECK_MAX_PER_RUN)
    expect(invocation.subrequests + invocation.d1Queries).toBeLessThanOrEqual(
      WORKERS.subrequestsPerInvocation.free,
    )
    expect(invocation.peakConnections).toBeLessThanOrEqual(2 * DOMAIN_RECHECK_CONCURRENCY)
    const second = await recheckDueDomains(
      database(env.DB),
      checker(),
      new Date(start.getTime() + 120_000),
    )
    // The rest of this test's, then domains the earlier tests checked a day before.
    const rest = second.checked.filter((c) => c.domain.startsWith('bound'))
    expect(rest.map((c) => c.domain)).toEqual([...names].sort().slice(DOMAIN_RECHECK_MAX_PER_RUN))
    expect(rest.every((c) => c.verified && c.verifiedMx)).toBe(true)
  })
})

function checker(fetch?: typeof globalThis.fetch) {
  return { resolver: dohResolver({ endpoint: env.DOH_ENDPOINT, fetch }), bridgeHosts: [] }
}
