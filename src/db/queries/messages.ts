import { and, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm'
import { D1_MAX_BOUND_PARAMS } from '../../limits'
import type { Database } from '../client'
import { attachmentBlobs, messageAttachments, messages, type HeaderList } from '../schema'

export type MessageRow = typeof messages.$inferSelect
export type NewMessageRow = typeof messages.$inferInsert
export type MessageAttachmentRow = typeof messageAttachments.$inferSelect

/** Who is looking at an inbox: decides whether other accounts' starred messages are hidden. */
export type InboxView = { viewerId: string | null; inboxOwned: boolean }

/** What a deleted row referenced in R2, so storage can be released once nothing else does. */
export type ReleasedRefs = Pick<MessageRow, 'rawKey' | 'contentKey' | 'attachments'>

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * On a public inbox, a message starred by an account becomes private to that account
 * (Mailsac: "saved messages are made private for the user"); on an owned inbox the owner
 * sees everything.
 */
function visibleTo(view: InboxView): SQL | undefined {
  if (view.inboxOwned) return undefined
  return view.viewerId
    ? or(isNull(messages.savedBy), eq(messages.savedBy, view.viewerId))
    : isNull(messages.savedBy)
}

export async function listInboxMessages(
  db: Database,
  inbox: string,
  view: InboxView,
  page: { until?: Date; limit: number },
): Promise<MessageRow[]> {
  return db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.inbox, inbox),
        page.until ? lt(messages.received, page.until) : undefined,
        visibleTo(view),
      ),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(page.limit)
}

export async function countInboxMessages(db: Database, inbox: string, view: InboxView) {
  const [row] = await db
    .select({ count: sql<number>`count(*)` })
    .from(messages)
    .where(and(eq(messages.inbox, inbox), visibleTo(view)))
  return row?.count ?? 0
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

export async function findMessage(db: Database, inbox: string, id: string) {
  return (
    (await db.query.messages.findFirst({
      where: and(eq(messages.id, id), eq(messages.inbox, inbox)),
    })) ?? null
  )
}

export async function findMessageAttachments(db: Database, messageId: string) {
  return db
    .select()
    .from(messageAttachments)
    .where(eq(messageAttachments.messageId, messageId))
    .orderBy(messageAttachments.position)
}

/** Stores one delivery: every recipient row and its attachment rows, atomically. */
export async function insertDelivery(
  db: Database,
  rows: NewMessageRow[],
  attachments: Omit<MessageAttachmentRow, 'messageId'>[],
) {
  // One statement per row: a multi-row insert would pass D1's 100 bound parameters.
  const statements = rows.flatMap((row) => [
    db.insert(messages).values(row),
    ...attachments.map((attachment) =>
      db.insert(messageAttachments).values({ ...attachment, messageId: row.id }),
    ),
  ])
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
    .returning({
      rawKey: messages.rawKey,
      contentKey: messages.contentKey,
      attachments: messages.attachments,
    })
}

/** Deletes every unstarred message of an inbox. */
export async function deleteUnstarredInboxMessages(db: Database, inbox: string) {
  return db
    .delete(messages)
    .where(and(eq(messages.inbox, inbox), isNull(messages.savedBy)))
    .returning({
      rawKey: messages.rawKey,
      contentKey: messages.contentKey,
      attachments: messages.attachments,
    })
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

/** Which of `rawKeys` some message row still references. */
export async function findReferencedRawKeys(db: Database, rawKeys: string[]): Promise<Set<string>> {
  const alive = new Set<string>()
  for (const batch of chunks(rawKeys, D1_MAX_BOUND_PARAMS - 1)) {
    const rows = await db
      .selectDistinct({ rawKey: messages.rawKey })
      .from(messages)
      .where(inArray(messages.rawKey, batch))
    for (const row of rows) alive.add(row.rawKey)
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
  }
}
