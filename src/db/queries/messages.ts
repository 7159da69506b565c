import { and, desc, eq, gte, inArray, isNull, lt, ne, or, sql, type SQL } from 'drizzle-orm'
import { D1_MAX_BOUND_PARAMS } from '../../limits'
import type { Database } from '../client'
import {
  attachmentBlobs,
  domains,
  messageAttachments,
  messages,
  privateAddresses,
  type HeaderList,
} from '../schema'

export type MessageRow = typeof messages.$inferSelect
export type NewMessageRow = typeof messages.$inferInsert
export type MessageAttachmentRow = typeof messageAttachments.$inferSelect

/** What a deleted row referenced in R2, so storage can be released once nothing else does. */
export type ReleasedRefs = Pick<MessageRow, 'packKey' | 'attachments'>

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * Rows `viewerId` may see in an inbox it may open: all of them on its own private inbox; on a
 * public inbox, all but those starred by another account (Mailsac: a saved message is "made
 * private for the user"). Written as SQL so it runs in the same D1 round trip as the
 * ownership check instead of after it.
 */
function visibleTo(viewerId: string | null): SQL | undefined {
  if (!viewerId) return isNull(messages.savedBy)
  return or(
    isNull(messages.savedBy),
    eq(messages.savedBy, viewerId),
    sql`exists (select 1 from ${privateAddresses} where ${privateAddresses.email} = ${messages.inbox} and ${privateAddresses.owner} = ${viewerId})`,
    sql`exists (select 1 from ${domains} where ${domains.domain} = ${messages.domain} and ${domains.owner} = ${viewerId})`,
  )
}

/** A page of an inbox, newest first (a query to run or batch). */
export function listInboxMessages(
  db: Database,
  inbox: string,
  viewerId: string | null,
  page: { until?: Date; limit: number },
) {
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.inbox, inbox),
        page.until ? lt(messages.received, page.until) : undefined,
        visibleTo(viewerId),
      ),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(page.limit)
}

/**
 * The newest `limit` messages of an inbox `viewerId` sees, received at or after `since` and
 * other than `except` (the wait and latest routes; a query to run or batch).
 */
export function listInboxMessagesSince(
  db: Database,
  inbox: string,
  viewerId: string | null,
  window: { since?: Date; except?: string; limit: number },
) {
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.inbox, inbox),
        window.since ? gte(messages.received, window.since) : undefined,
        window.except ? ne(messages.id, window.except) : undefined,
        visibleTo(viewerId),
      ),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(window.limit)
}

/** How many messages of an inbox `viewerId` sees (a query to run or batch). */
export function countInboxMessages(db: Database, inbox: string, viewerId: string | null) {
  return db
    .select({ count: sql<number>`count(*)` })
    .from(messages)
    .where(and(eq(messages.inbox, inbox), visibleTo(viewerId)))
}

/** One message of an inbox, as a list of zero or one row (a query to run or batch). */
export function findMessage(db: Database, inbox: string, id: string) {
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.inbox, inbox)))
    .limit(1)
}

export async function listStarredMessages(
  db: Database,
  accountId: string,
  page: { until?: Date; limit: number },
): Promise<MessageRow[]> {
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.savedBy, accountId),
        page.until ? lt(messages.received, page.until) : undefined,
      ),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(page.limit)
}

export async function findMessageAttachments(db: Database, messageId: string) {
  return db
    .select()
    .from(messageAttachments)
    .where(eq(messageAttachments.messageId, messageId))
    .orderBy(messageAttachments.position)
}

/** Stores deliveries: every recipient row and its attachment rows, in one D1 transaction. */
export async function insertDeliveries(
  db: Database,
  deliveries: { rows: NewMessageRow[]; attachments: Omit<MessageAttachmentRow, 'messageId'>[] }[],
) {
  // One statement per row: a multi-row insert would pass D1's 100 bound parameters.
  const statements = deliveries.flatMap(({ rows, attachments }) =>
    rows.flatMap((row) => [
      db.insert(messages).values(row),
      ...attachments.map((attachment) =>
        db.insert(messageAttachments).values({ ...attachment, messageId: row.id }),
      ),
    ]),
  )
  const [first, ...rest] = statements
  await db.batch([first, ...rest])
}

/** Marks attachment blobs as in use now (see `attachmentBlobs.touched`). */
export async function touchAttachmentBlobs(
  db: Database,
  blobs: { md5: string; size: number }[],
  now: Date,
) {
  if (blobs.length === 0) return
  const [first, ...rest] = blobs.map((blob) =>
    db
      .insert(attachmentBlobs)
      .values({ md5: blob.md5, size: blob.size, touched: now })
      .onConflictDoUpdate({ target: attachmentBlobs.md5, set: { touched: now } }),
  )
  await db.batch([first, ...rest])
}

export async function deleteMessage(db: Database, inbox: string, id: string) {
  return db
    .delete(messages)
    .where(and(eq(messages.id, id), eq(messages.inbox, inbox)))
    .returning({ packKey: messages.packKey, attachments: messages.attachments })
}

/** Deletes every unstarred message of an inbox. */
export async function deleteUnstarredInboxMessages(db: Database, inbox: string) {
  return db
    .delete(messages)
    .where(and(eq(messages.inbox, inbox), isNull(messages.savedBy)))
    .returning({ packKey: messages.packKey, attachments: messages.attachments })
}

/** Deletes every message of an inbox, starred ones included (releasing an address with its mail). */
export async function deleteAllInboxMessages(db: Database, inbox: string) {
  return db
    .delete(messages)
    .where(eq(messages.inbox, inbox))
    .returning({ packKey: messages.packKey, attachments: messages.attachments })
}

export async function updateMessage(
  db: Database,
  inbox: string,
  id: string,
  changes: Partial<Pick<MessageRow, 'savedBy' | 'labels' | 'folder' | 'read'>>,
) {
  const [row] = await db
    .update(messages)
    .set(changes)
    .where(and(eq(messages.id, id), eq(messages.inbox, inbox)))
    .returning()
  return row ?? null
}

/** Which of `packKeys` some message row still references. */
export async function findReferencedPacks(db: Database, packKeys: string[]): Promise<Set<string>> {
  const alive = new Set<string>()
  for (const batch of chunks(packKeys, D1_MAX_BOUND_PARAMS - 1)) {
    const rows = await db
      .selectDistinct({ packKey: messages.packKey })
      .from(messages)
      .where(inArray(messages.packKey, batch))
    for (const row of rows) alive.add(row.packKey)
  }
  return alive
}

/**
 * Deletes the blob rows among `md5s` that no message references and no ingest touched since
 * `touchedBefore`; returns the MD5s whose bytes may now be removed from R2.
 */
export async function deleteUnreferencedBlobs(
  db: Database,
  md5s: string[],
  touchedBefore: Date,
): Promise<string[]> {
  const gone: string[] = []
  for (const batch of chunks(md5s, D1_MAX_BOUND_PARAMS - 2)) {
    const rows = await db
      .delete(attachmentBlobs)
      .where(
        and(
          inArray(attachmentBlobs.md5, batch),
          lt(attachmentBlobs.touched, touchedBefore),
          sql`not exists (select 1 from ${messageAttachments} where ${messageAttachments.md5} = ${attachmentBlobs.md5})`,
        ),
      )
      .returning({ md5: attachmentBlobs.md5 })
    gone.push(...rows.map((row) => row.md5))
  }
  return gone
}

/** Mailsac's headers object: lower-cased names; a repeated header becomes an array. */
export function headersObject(headers: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of headers) {
    const existing = out[name]
    if (existing === undefined) out[name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else out[name] = [existing, value]
  }
  return out
}

/** The abbreviated message object of list, star and metadata responses. */
export function messageJson(row: MessageRow) {
  return {
    _id: row.id,
    inbox: row.inbox,
    originalInbox: row.originalInbox,
    domain: row.domain,
    from: row.from,
    to: row.to,
    cc: row.cc,
    bcc: row.bcc,
    subject: row.subject,
    received: row.received.toISOString(),
    size: row.size,
    attachments: row.attachments.length > 0 ? row.attachments : null,
    savedBy: row.savedBy,
    labels: row.labels,
    folder: row.folder,
    read: row.read,
    ip: row.ip,
    links: row.links,
  }
}
