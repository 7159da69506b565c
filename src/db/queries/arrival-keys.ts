import { inArray, lt, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { byBoundParams } from '../params'
import { arrivalKeys } from '../schema'

export type StoredArrival = { key: string; messages: Array<{ _id: string; inbox: string }> }

/** The arrivals among `keys` already stored since `since`, with the ids stored for them. */
export async function findArrivalKeys(
  db: Database,
  keys: string[],
  since: Date,
): Promise<Map<string, StoredArrival['messages']>> {
  const found = new Map<string, StoredArrival['messages']>()
  for (const part of byBoundParams([...new Set(keys)], 1)) {
    const rows = await db.select().from(arrivalKeys).where(inArray(arrivalKeys.key, part))
    for (const row of rows) if (row.created >= since) found.set(row.key, row.messages)
  }
  return found
}

/**
 * The insert of one arrival's key, to batch with its message rows (same transaction). A
 * possible retry (`strict`) fails the batch when the key exists, so it never stores a second
 * copy; a settled arrival sent again (the same bytes resent on purpose) takes the key over.
 */
export function insertArrivalKey(db: Database, arrival: StoredArrival, now: Date, strict: boolean) {
  const insert = db.insert(arrivalKeys).values({ ...arrival, created: now })
  if (strict) return insert
  return insert.onConflictDoUpdate({
    target: arrivalKeys.key,
    set: { messages: arrival.messages, created: now },
  })
}

/**
 * `insertArrivalKey` for many arrivals in one statement (at most D1's bound parameters:
 * the caller slices). A settled arrival's row takes over the stored ids of a key it meets.
 */
export function insertArrivalKeys(
  db: Database,
  arrivals: StoredArrival[],
  now: Date,
  strict: boolean,
) {
  const insert = db
    .insert(arrivalKeys)
    .values(arrivals.map((arrival) => ({ ...arrival, created: now })))
  if (strict) return insert
  return insert.onConflictDoUpdate({
    target: arrivalKeys.key,
    set: { messages: sql`excluded.messages_json`, created: now },
  })
}

/** Forgets up to `limit` keys older than `before`, oldest first (the retention run). */
export async function deleteArrivalKeysBefore(
  db: Database,
  before: Date,
  limit: number,
): Promise<number> {
  const expired = db
    .select({ key: arrivalKeys.key })
    .from(arrivalKeys)
    .where(lt(arrivalKeys.created, before))
    .orderBy(arrivalKeys.created)
    .limit(limit)
  const gone = await db
    .delete(arrivalKeys)
    .where(inArray(arrivalKeys.key, expired))
    .returning({ key: arrivalKeys.key })
  return gone.length
}
