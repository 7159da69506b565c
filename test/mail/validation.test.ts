import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { database } from '../../src/db/client'
import type { Resolver } from '../../src/mail/dns'
import { validateAddresses } from '../../src/mail/validation'

// Issue #16 item 2: which domains count as disposable, with a stub resolver (no network).

const noMx: Resolver = { resolve: async () => [] }
const context = (acceptedSetting: string) => ({
  db: database(env.DB),
  acceptedSetting,
  resolver: noMx,
})

describe('validateAddresses (issue #16 item 2)', () => {
  it('counts the domains ACCEPTED_DOMAINS names, but not "catch-all" (empty) as every domain', async () => {
    const named = await validateAddresses(
      ['a@ours.example', 'b@theirs.example'],
      context('ours.example'),
    )
    expect(named.map((r) => r.isDisposable)).toEqual([true, false])
    const catchAll = await validateAddresses(['a@ours.example'], context(''))
    expect(catchAll[0].isDisposable).toBe(false)
  })

  it('counts a subdomain of a listed domain, and not a domain that merely ends like one', async () => {
    const results = await validateAddresses(
      ['a@eu.mailinator.com', 'b@xyzmailinator.com'],
      context(''),
    )
    expect(results.map((r) => r.disposableDomains)).toEqual([['eu.mailinator.com'], []])
  })
})
