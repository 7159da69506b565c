// The visibility rule has two spellings: src/mail/privacy.ts (what single-message routes, the
// live feeds and notify ask) and src/db/queries/privacy.ts (what lists, counts, searches and
// stats filter by in D1). This holds them together over every combination of who reserved an
// inbox, who owns its domain, who starred the message, and who is looking.
import { env } from 'cloudflare:workers'
import { and, eq, inArray, type SQL } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { database } from '../../src/db/client'
import { insertPrivateAddress } from '../../src/db/queries/addresses'
import { claimDomain } from '../../src/db/queries/domains'
import {
  accountMail,
  inOwnInboxVisible,
  isPublicMessage,
  visibleInInbox,
} from '../../src/db/queries/privacy'
import { messages } from '../../src/db/schema'
import { ingestMessage } from '../../src/mail/inbound/ingest'
import { audienceOf, inboxOwner, mayOpenInbox, maySeeMessage } from '../../src/mail/privacy'
import { createAccount, simpleMessage } from '../requests'

type Case = {
  id: string
  reservedBy: string | null
  domainOwner: string | null
  savedBy: string | null
}

const db = database(env.DB)
const cases: Case[] = []
let accounts: string[] = []

beforeAll(async () => {
  accounts = (await Promise.all([createAccount(), createAccount(), createAccount()])).map(
    (a) => a.id,
  )
  const [a, b, c] = accounts
  let n = 0
  for (const reservedBy of [null, a]) {
    for (const domainOwner of [null, a, b]) {
      for (const savedBy of [null, a, b, c]) {
        const domain = `d${n++}.privacy-twin.test`
        const inbox = `box@${domain}`
        if (domainOwner) await claimDomain(db, domain, domainOwner)
        if (reservedBy) await insertPrivateAddress(db, inbox, reservedBy)
        const [stored] = await ingestMessage(
          env,
          new TextEncoder().encode(simpleMessage({ to: inbox })),
          {
            from: 'sender@example.org',
            to: [inbox],
          },
        )
        if (savedBy) await db.update(messages).set({ savedBy }).where(eq(messages.id, stored._id))
        cases.push({ id: stored._id, reservedBy, domainOwner, savedBy })
      }
    }
  }
})

async function matching(condition: SQL): Promise<Set<string>> {
  const ids = cases.map((c) => c.id)
  const rows = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(inArray(messages.id, ids), condition))
  return new Set(rows.map((row) => row.id))
}

const ownerOf = (c: Case) => inboxOwner(c)

describe('the visibility rule in SQL and in code', () => {
  it('agrees on what is public (stats, retention, the public feed)', async () => {
    const sql = await matching(isPublicMessage())
    for (const c of cases) {
      expect(sql.has(c.id), JSON.stringify(c)).toBe(audienceOf(c, ownerOf(c)).public)
    }
  })

  it('agrees, for every viewer, on what an inbox it may open shows', async () => {
    for (const viewer of [null, ...accounts]) {
      const sql = await matching(visibleInInbox(viewer))
      for (const c of cases.filter((c) => mayOpenInbox(ownerOf(c), viewer))) {
        expect(sql.has(c.id), `${viewer} ${JSON.stringify(c)}`).toBe(
          maySeeMessage(c, ownerOf(c), viewer),
        )
      }
    }
  })

  it('agrees on each account’s own inboxes and on all of its mail', async () => {
    for (const account of accounts) {
      const own = await matching(inOwnInboxVisible(account))
      const all = await matching(accountMail(account))
      for (const c of cases) {
        const owner = ownerOf(c)
        expect(own.has(c.id), `${account} own ${JSON.stringify(c)}`).toBe(
          owner === account && maySeeMessage(c, owner, account),
        )
        expect(all.has(c.id), `${account} all ${JSON.stringify(c)}`).toBe(
          c.savedBy === account || (c.savedBy === null && owner === account),
        )
        // Nothing is an account's that the account may not see.
        if (all.has(c.id)) expect(maySeeMessage(c, owner, account)).toBe(true)
      }
    }
  })
})
