import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { database } from '../../../src/db/client'
import { deleteAccount } from '../../../src/db/queries/accounts'
import { claimDomain } from '../../../src/db/queries/domains'
import { ingestMessage } from '../../../src/mail/inbound/ingest'
import { createAccount, reserve } from '../../requests'
import { mimeMessage } from '../../mail-builders'

async function deliver(to: string) {
  await ingestMessage(env, mimeMessage({ to }), { from: 'sender@example.org', to: [to] })
}

/** Messages whose stored flags disagree with the reservations and owned domains of now. */
async function stale(): Promise<number> {
  const row = await env.DB.prepare(
    `select count(*) as n from messages
     where inbox_reserved <> exists (select 1 from private_addresses where email = messages.inbox)
        or domain_owned <> exists (select 1 from domains where domain = messages.domain)`,
  ).first<{ n: number }>()
  return row!.n
}

async function flagged(): Promise<{ reserved: number; owned: number }> {
  const row = await env.DB.prepare(
    'select sum(inbox_reserved) as reserved, sum(domain_owned) as owned from messages',
  ).first<{ reserved: number; owned: number }>()
  return { reserved: row!.reserved, owned: row!.owned }
}

describe('messages.inbox_reserved and messages.domain_owned', () => {
  it('follow reservations and owned domains through arrival, claims and an account deletion', async () => {
    const db = database(env.DB)
    const owner = await createAccount()
    // Public when it arrives, private later.
    await deliver('kept@flags.test')
    await deliver('someone@owned-flags.test')
    await deliver('other@flags.test')
    await reserve('kept@flags.test', owner.apiKey)
    await claimDomain(db, 'owned-flags.test', owner.id)
    expect(await flagged()).toEqual({ reserved: 1, owned: 1 })
    // Private when it arrives.
    await deliver('kept@flags.test')
    await deliver('new@owned-flags.test')
    expect(await flagged()).toEqual({ reserved: 2, owned: 2 })
    expect(await stale()).toBe(0)

    // The reservation and the domain go by foreign key cascade, which fires the triggers too.
    expect(await deleteAccount(db, owner.id)).toBe(true)
    expect(await flagged()).toEqual({ reserved: 0, owned: 0 })
    expect(await stale()).toBe(0)
  })

  it('are backfilled by their migration for mail stored before it', async () => {
    const owner = await createAccount()
    await reserve('backfill@flags.test', owner.apiKey)
    await claimDomain(database(env.DB), 'backfill-owned.test', owner.id)
    await deliver('backfill@flags.test')
    await deliver('a@backfill-owned.test')
    // As every message was before migration 0005: flags at their column default.
    await env.DB.prepare('update messages set inbox_reserved = 0, domain_owned = 0').run()
    expect(await stale()).toBe(2)

    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0005_'))!
    const backfill = migration.queries.filter(
      (query) => /UPDATE `messages`/.test(query) && !/CREATE TRIGGER/.test(query),
    )
    expect(backfill).toHaveLength(2)
    for (const query of backfill) await env.DB.prepare(query).run()
    expect(await stale()).toBe(0)
    expect(await flagged()).toEqual({ reserved: 1, owned: 1 })
  })
})
