import { and, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { domains, messages } from '../schema'
import { randomString } from '../../lib/random'
import { byBoundParams } from '../params'
import { inOwnedInbox, inOwnInboxVisible } from './privacy'

export type Domain = typeof domains.$inferSelect

export async function findDomain(db: Database, domain: string): Promise<Domain | null> {
  return (await db.query.domains.findFirst({ where: eq(domains.domain, domain) })) ?? null
}

export async function listDomains(db: Database, owner: string) {
  return db.select().from(domains).where(eq(domains.owner, owner)).orderBy(domains.domain)
}

/** Gives a domain to an account; false when another account already owns it. */
export async function claimDomain(db: Database, domain: string, owner: string, now = new Date()) {
  const [row] = await db
    .insert(domains)
    .values({ domain, owner, created: now })
    .onConflictDoUpdate({ target: domains.domain, set: { owner }, where: eq(domains.owner, owner) })
    .returning()
  return row ?? null
}

export async function releaseDomain(db: Database, domain: string) {
  const deleted = await db.delete(domains).where(eq(domains.domain, domain)).returning()
  return deleted.length > 0
}

export async function setSendingVerified(db: Database, domain: string, verified: boolean) {
  const [row] = await db
    .update(domains)
    .set({ sendingVerified: verified })
    .where(eq(domains.domain, domain))
    .returning()
  return row ?? null
}

/** Messages at a domain that are the account's (not other reservers' nor others' stars). */
const domainMail = (domain: string, accountId: string) =>
  and(eq(messages.domain, domain), inOwnInboxVisible(accountId))

export async function countDomainMessages(db: Database, domain: string, accountId: string) {
  const [row] = await db
    .select({ count: sql<number>`count(*)` })
    .from(messages)
    .where(domainMail(domain, accountId))
  return row?.count ?? 0
}

export async function listDomainMessages(
  db: Database,
  domain: string,
  accountId: string,
  page: { until?: Date; limit: number },
) {
  return db
    .select()
    .from(messages)
    .where(
      and(
        domainMail(domain, accountId),
        page.until ? lt(messages.received, page.until) : undefined,
      ),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(page.limit)
}

/**
 * Deletes the account's messages at a domain, its own starred ones included (OpenAPI says
 * so); mail of addresses other accounts reserved, and messages others starred, are theirs.
 */
export async function deleteDomainMessages(db: Database, domain: string, accountId: string) {
  return db
    .delete(messages)
    .where(
      and(
        eq(messages.domain, domain),
        inOwnedInbox(accountId),
        or(isNull(messages.savedBy), eq(messages.savedBy, accountId)),
      ),
    )
    .returning({ packKey: messages.packKey, attachments: messages.attachments })
}
/** The owned domains among `names`. */
export function findDomains(db: Database, names: string[]): Promise<Domain[]> {
  if (names.length === 0) return Promise.resolve([])
  return db.select().from(domains).where(inArray(domains.domain, names))
}

/** Which of `names` are domains an account owns here, in slices under D1's bound parameters. */
export async function ownedDomainNames(db: Database, names: string[]): Promise<Set<string>> {
  const owned = new Set<string>()
  for (const slice of byBoundParams([...new Set(names)], 1)) {
    const rows = await db
      .select({ domain: domains.domain })
      .from(domains)
      .where(inArray(domains.domain, slice))
    for (const row of rows) owned.add(row.domain)
  }
  return owned
}

/** Every domain, by name (the operator's list). */
export async function listAllDomains(db: Database) {
  return db.select().from(domains).orderBy(domains.domain)
}

/**
 * Domains whose DNS was never checked, or last checked before `checkedBefore`: never-checked
 * first, then the oldest check, at most `limit` (the cron's re-check).
 */
export async function findDomainsDueForCheck(db: Database, checkedBefore: Date, limit: number) {
  return db
    .select()
    .from(domains)
    .where(or(isNull(domains.lastVerified), lt(domains.lastVerified, checkedBefore)))
    .orderBy(sql`${domains.lastVerified} IS NOT NULL`, domains.lastVerified, domains.domain)
    .limit(limit)
}

/**
 * Records a verification result on a domain (`null`: only give it a token, for rows older
 * than the column whose migration did not run its backfill).
 */
export async function recordVerification(
  db: Database,
  domain: Domain,
  result: { verified: boolean; verifiedMx: boolean; errors: string[]; at: Date } | null,
): Promise<Domain> {
  const token = domain.verificationToken ?? randomString(32)
  const [row] = await db
    .update(domains)
    .set(
      result
        ? {
            verificationToken: token,
            verified: result.verified,
            verifiedMx: result.verifiedMx,
            lastVerificationErrors: result.errors.join('\n'),
            lastVerified: result.at,
          }
        : { verificationToken: token },
    )
    .where(eq(domains.domain, domain.domain))
    .returning()
  return row ?? { ...domain, verificationToken: token }
}
