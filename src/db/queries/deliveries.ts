import { and, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm'
import { byBoundParams } from '../params'
import type { Database } from '../client'
import { deliveries } from '../schema'

export type DeliveryRow = typeof deliveries.$inferSelect
export type DeliveryKind = DeliveryRow['kind']
export type NewDelivery = Pick<
  DeliveryRow,
  'id' | 'address' | 'account' | 'messageId' | 'kind' | 'target'
>

/**
 * The idempotency id of one notification of one message: deterministic, so a repeated
 * `notifyStored` for the same mail finds the row already there instead of notifying twice.
 */
export function deliveryId(messageId: string, kind: DeliveryKind): string {
  return `${messageId}.${kind}`
}

/** Inserts pending deliveries; returns the ids actually inserted (new ones only). */
export async function insertPendingDeliveries(
  db: Database,
  rows: NewDelivery[],
  now: Date,
): Promise<string[]> {
  if (rows.length === 0) return []
  // One statement per row: a multi-row insert would pass D1's 100 bound parameters.
  const [first, ...rest] = rows.map((row) =>
    db
      .insert(deliveries)
      .values({ ...row, status: 'pending', attempts: 0, created: now, updated: now })
      .onConflictDoNothing()
      .returning({ id: deliveries.id }),
  )
  const inserted = await db.batch([first, ...rest])
  return inserted.flat().map((row) => row.id)
}

export async function findDelivery(db: Database, id: string): Promise<DeliveryRow | null> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, id)).limit(1)
  return row ?? null
}

export type AttemptOutcome = {
  status: DeliveryRow['status']
  statusCode?: number | null
  error?: string | null
}

/**
 * Records one attempt. `attempts` counts in SQL so two consumers racing on a redelivered
 * message both count; a row already delivered is never moved back to another status.
 */
export async function recordAttempt(
  db: Database,
  id: string,
  outcome: AttemptOutcome,
  now: Date,
): Promise<void> {
  await db
    .update(deliveries)
    .set({
      status: outcome.status,
      attempts: sql`${deliveries.attempts} + 1`,
      lastStatusCode: outcome.statusCode ?? null,
      lastError: outcome.error ?? null,
      updated: now,
      ...(outcome.status === 'delivered' ? { deliveredAt: now } : {}),
    })
    .where(and(eq(deliveries.id, id), ne(deliveries.status, 'delivered')))
}

/** Settles deliveries without an attempt (enqueueing failed, or the dead-letter queue). */
export async function settleDeliveries(
  db: Database,
  ids: string[],
  status: 'failed' | 'dead',
  error: string,
  now: Date,
): Promise<void> {
  for (const part of byBoundParams(ids, 1, 10)) {
    await db
      .update(deliveries)
      .set({ status, lastError: error, updated: now })
      .where(and(inArray(deliveries.id, part), ne(deliveries.status, 'delivered')))
  }
}

/** The newest deliveries of an address (GET /api/addresses/:email/webhook-deliveries). */
/** An account's deliveries of an address (history stays with the account that configured it). */
export async function listAddressDeliveries(
  db: Database,
  address: string,
  account: string,
  page: { until?: Date; limit: number },
): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.address, address),
        eq(deliveries.account, account),
        page.until ? lt(deliveries.created, page.until) : undefined,
      ),
    )
    .orderBy(desc(deliveries.created), desc(deliveries.id))
    .limit(page.limit)
}
/** Marks deliveries as handed to the queue. */
export async function markQueued(db: Database, ids: string[], now: Date): Promise<void> {
  for (const part of byBoundParams(ids, 1, 1)) {
    await db.update(deliveries).set({ queuedAt: now }).where(inArray(deliveries.id, part))
  }
}

/**
 * Pending deliveries that never reached the queue (its sendBatch failed at ingest) and are
 * older than `before`, oldest first: the cron sweep queues them again.
 */
export function findUnqueuedDeliveries(db: Database, before: Date, limit: number) {
  return db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(
      and(
        sql`${deliveries.queuedAt} is null`,
        eq(deliveries.status, 'pending'),
        lt(deliveries.created, before),
      ),
    )
    .orderBy(deliveries.created)
    .limit(limit)
}
