import {
  and,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNull,
  lt,
  ne,
  or,
  sql,
  type SQL,
} from 'drizzle-orm'
import type { Database } from '../client'
import { byBoundParams } from '../params'
import {
  attachmentBlobs,
  messageAttachments,
  messageHeaders,
  messages,
  type HeaderList,
} from '../schema'
import { visibleInInbox } from './privacy'

// What reads of messages select: every column but the search text, which only the search's
// WHERE reads (up to SEARCH_TEXT_CHARS a row). Headers live in message_headers, once per
// delivery, and only single-message reads join them.
const { searchText: _searchText, ...listed } = getTableColumns(messages)
export const messageColumns = listed

export type MessageRow = Omit<typeof messages.$inferSelect, 'searchText'>
export type NewMessageRow = typeof messages.$inferInsert
/** A message with its delivery's headers (single-message responses, frames, payloads). */
export type MessageWithHeaders = MessageRow & { headers: HeaderList }

/** The delivery's headers as a column of a message read (`[]` if none was stored). */
const headersColumn = sql<string>`coalesce(${messageHeaders.headers}, '[]')`.mapWith(
  (value: string): HeaderList => JSON.parse(value),
)

/** `messages` with the headers of each row's delivery (a join on the pack and offset). */
export function selectWithHeaders(db: Database) {
  return db
    .select({ ...messageColumns, headers: headersColumn })
    .from(messages)
    .leftJoin(
      messageHeaders,
      and(
        eq(messageHeaders.packKey, messages.packKey),
        eq(messageHeaders.rawOffset, messages.rawOffset),
      ),
    )
}

/** Where a delivery's headers are: its pack and the offset of its raw bytes there. */
type Delivery = Pick<MessageRow, 'packKey' | 'rawOffset'>
const deliveryOf = (row: Delivery) => `${row.rawOffset}:${row.packKey}`

/**
 * The headers of each message's delivery, in one query per 50 deliveries. Rows that already
 * carry them (the ones the realtime hub publishes) are not looked up again.
 */
export async function withHeaders<T extends Delivery>(
  db: Database,
  rows: (T & { headers?: HeaderList })[],
): Promise<(T & { headers: HeaderList })[]> {
  const lacking = rows.filter((row) => !row.headers)
  if (lacking.length === 0) return rows as (T & { headers: HeaderList })[]
  const deliveries = [...new Map(lacking.map((row) => [deliveryOf(row), row])).values()]
  const found = new Map<string, HeaderList>()
  for (const part of byBoundParams(deliveries, 2)) {
    const matches = await db
      .select()
      .from(messageHeaders)
      .where(
        or(
          ...part.map((row) =>
            and(
              eq(messageHeaders.packKey, row.packKey),
              eq(messageHeaders.rawOffset, row.rawOffset),
            ),
          ),
        ),
      )
    for (const match of matches) found.set(deliveryOf(match), match.headers)
  }
  return rows.map((row) => ({ ...row, headers: row.headers ?? found.get(deliveryOf(row)) ?? [] }))
}
export type MessageAttachmentRow = typeof messageAttachments.$inferSelect

/** What a deleted row referenced in R2, so storage can be released once nothing else does. */
export type ReleasedRefs = Pick<MessageRow, 'packKey' | 'attachments'>

/** A page of an inbox, newest first (a query to run or batch). */
export function listInboxMessages(
  db: Database,
  inbox: string,
  viewerId: string | null,
  page: { until?: Date; limit: number },
) {
  return newestInInbox(db, inbox, viewerId, page.limit, [
    page.until ? lt(messages.received, page.until) : undefined,
  ])
}

/**
 * The newest `limit` messages of an inbox that `viewerId` sees and that meet `conditions`
 * (a query to run or batch): the one shape of every inbox listing.
 */
export function newestInInbox(
  db: Database,
  inbox: string,
  viewerId: string | null,
  limit: number,
  conditions: (SQL | undefined)[],
) {
  return db
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.inbox, inbox), visibleInInbox(viewerId), ...conditions))
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(limit)
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
  return newestInInbox(db, inbox, viewerId, window.limit, [
    window.since ? gte(messages.received, window.since) : undefined,
    window.except ? ne(messages.id, window.except) : undefined,
  ])
}

/** How many messages of an inbox `viewerId` sees (a query to run or batch). */
export function countInboxMessages(db: Database, inbox: string, viewerId: string | null) {
  return db
    .select({ count: sql<number>`count(*)` })
    .from(messages)
    .where(and(eq(messages.inbox, inbox), visibleInInbox(viewerId)))
}

/**
 * One message of an inbox with its headers, as a list of zero or one row (a query to run or
 * batch).
 */
export function findMessage(db: Database, inbox: string, id: string) {
  return selectWithHeaders(db)
    .where(and(eq(messages.id, id), eq(messages.inbox, inbox)))
    .limit(1)
}

export async function listStarredMessages(
  db: Database,
  accountId: string,
  page: { until?: Date; limit: number },
): Promise<MessageRow[]> {
  return db
    .select(messageColumns)
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
    .returning(messageColumns)
  return row ?? null
}

/** Which of `packKeys` some message row still references. */
export async function findReferencedPacks(db: Database, packKeys: string[]): Promise<Set<string>> {
  const alive = new Set<string>()
  for (const batch of byBoundParams(packKeys, 1, 1)) {
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
  for (const batch of byBoundParams(md5s, 1, 2)) {
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
