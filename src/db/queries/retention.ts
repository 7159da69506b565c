import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { attachmentBlobs, messageAttachments, messages } from '../schema'
import { isPublicMessage } from './privacy'

// Retention only ever touches rows isPublicMessage() accepts: starred messages, reserved
// inboxes and owned domains are never deleted by it.

const released = { packKey: messages.packKey, attachments: messages.attachments }

/** Deletes up to `limit` public messages received before `cutoff`, oldest first. */
export function deleteExpiredPublicMessages(db: Database, cutoff: Date, limit: number) {
  // Walks messages_public_received_idx from the oldest entry: a run reads only what it
  // deletes, never the old private mail that stays.
  const expired = db
    .select({ id: messages.id })
    .from(messages)
    .where(and(lt(messages.received, cutoff), isPublicMessage()))
    .orderBy(asc(messages.received))
    .limit(limit)
  return db.delete(messages).where(inArray(messages.id, expired)).returning(released)
}

/**
 * Public inboxes holding more than `cap` public messages, among those that received mail
 * since `since` (see RETENTION_CAP_LOOKBACK_MS), fullest first.
 */
export function findPublicInboxesOverCap(db: Database, since: Date, cap: number, limit: number) {
  const recent = db
    .selectDistinct({ inbox: messages.inbox })
    .from(messages)
    .where(gte(messages.received, since))
  const n = sql<number>`count(*)`
  return db
    .select({ inbox: messages.inbox, n })
    .from(messages)
    .where(and(inArray(messages.inbox, recent), isPublicMessage()))
    .groupBy(messages.inbox)
    .having(gt(n, cap))
    .orderBy(desc(n))
    .limit(limit)
}

/** Deletes the `count` oldest public messages of an inbox (a statement to run or batch). */
export function deleteOldestPublicMessages(db: Database, inbox: string, count: number) {
  const oldest = db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.inbox, inbox), isPublicMessage()))
    .orderBy(asc(messages.received), asc(messages.id))
    .limit(count)
  return db.delete(messages).where(inArray(messages.id, oldest)).returning(released)
}

/**
 * Deletes up to `limit` attachment blob rows no message references and no ingest touched
 * since `touchedBefore` (left behind when their last message went during the grace period,
 * or by a failed ingest); returns their MD5s so the bytes can go from R2.
 */
export async function deleteOrphanBlobs(
  db: Database,
  touchedBefore: Date,
  limit: number,
): Promise<string[]> {
  const orphans = db
    .select({ md5: attachmentBlobs.md5 })
    .from(attachmentBlobs)
    .where(
      and(
        lt(attachmentBlobs.touched, touchedBefore),
        sql`not exists (select 1 from ${messageAttachments} where ${messageAttachments.md5} = ${attachmentBlobs.md5})`,
      ),
    )
    .limit(limit)
  const rows = await db
    .delete(attachmentBlobs)
    .where(inArray(attachmentBlobs.md5, orphans))
    .returning({ md5: attachmentBlobs.md5 })
  return rows.map((row) => row.md5)
}
