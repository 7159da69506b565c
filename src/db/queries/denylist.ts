import { asc, eq, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { denylist } from '../schema'

export type DenylistEntry = typeof denylist.$inferSelect

export function listDenylist(db: Database): Promise<DenylistEntry[]> {
  return db.select().from(denylist).orderBy(asc(denylist.entry))
}

export async function findDenylistEntry(db: Database, entry: string) {
  const [row] = await db.select().from(denylist).where(eq(denylist.entry, entry)).limit(1)
  return row ?? null
}

/** Adds or updates an entry; returns it. */
export async function addDenylistEntry(
  db: Database,
  entry: string,
  reason: string | null,
  now = new Date(),
): Promise<DenylistEntry> {
  const [row] = await db
    .insert(denylist)
    .values({ entry, reason, created: now })
    .onConflictDoUpdate({ target: denylist.entry, set: { reason } })
    .returning()
  return row
}

/** Removes an entry; false if it was not listed. */
export async function removeDenylistEntry(db: Database, entry: string): Promise<boolean> {
  const removed = await db
    .delete(denylist)
    .where(eq(denylist.entry, entry))
    .returning({ entry: denylist.entry })
  return removed.length > 0
}

/**
 * The entries among `candidates` that are listed. One statement whatever the number of
 * candidates: they travel as one JSON parameter, so a whole ingest batch is checked in one
 * D1 query without meeting the 100 bound parameters limit.
 */
export function findListedEntries(db: Database, candidates: string[]) {
  return db
    .select({ entry: denylist.entry, reason: denylist.reason })
    .from(denylist)
    .where(sql`${denylist.entry} in (select value from json_each(${JSON.stringify(candidates)}))`)
}
