import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { domains, messages } from '../schema'

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

export async function countDomainMessages(db: Database, domain: string) {
  const [row] = await db
    .select({ count: sql<number>`count(*)` })
    .from(messages)
    .where(eq(messages.domain, domain))
  return row?.count ?? 0
}

export async function listDomainMessages(
  db: Database,
  domain: string,
  page: { until?: Date; limit: number },
) {
  return db
    .select()
    .from(messages)
    .where(
      and(eq(messages.domain, domain), page.until ? lt(messages.received, page.until) : undefined),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(page.limit)
}

/** Deletes every message at a domain, starred ones included (OpenAPI says so). */
export async function deleteDomainMessages(db: Database, domain: string) {
  return db
    .delete(messages)
    .where(eq(messages.domain, domain))
    .returning({ packKey: messages.packKey, attachments: messages.attachments })
}
/** The owned domains among `names`. */
export function findDomains(db: Database, names: string[]): Promise<Domain[]> {
  if (names.length === 0) return Promise.resolve([])
  return db.select().from(domains).where(inArray(domains.domain, names))
}
