import { and, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { domains, messages } from '../schema'
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
