import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import type { Database } from '../client'
import { hasAttachments, hasSender, messageAttachments, messages } from '../schema'
import { messageColumns } from './messages'
import { isPublicMessage } from './privacy'

/** `startDate` inclusive, `endDate` exclusive, so consecutive ranges never count a message twice. */
export type DateRange = { startDate: Date; endDate: Date }
export type StatsPage = { limit: number; skip: number }
/** One row of Mailsac's stats lists: what was counted and how many messages. */
export type Tally = { _id: string; n: number }

// Every query here shows mail to anyone, so every one filters with isPublicMessage(): reserved
// inboxes, owned domains and starred messages are never counted, listed or served.
//
// The counts are taken from the messages themselves, through public-only partial indexes
// (schema.ts), rather than from counters kept per time bucket and key. Counters must follow
// every delete and every privacy change of the messages they cover, and a range whose ends
// fall inside a bucket still needs those partial buckets counted message by message: with
// day buckets a "last 24 hours" range is two partial days, that is all of it, and finer
// buckets multiply the counters towards one per message for keys that are mostly distinct,
// like disposable inboxes. Reading the index is exact by construction and costs one ordered
// walk of the public mail, which retention bounds.

/** `received` (a message's, by default) falls in `range`. */
function receivedIn(range: DateRange, received: SQL | SQLiteColumn = messages.received): SQL {
  return sql`${received} >= ${range.startDate.getTime()} and ${received} < ${range.endDate.getTime()}`
}

/**
 * Counts public messages received in `range` per `key`, most first (ties by key). `key` leads
 * one of the schema's messages_public_*_idx indexes, whose WHERE `where` must repeat.
 */
function tally(
  db: Database,
  key: SQLiteColumn,
  range: DateRange,
  page: StatsPage,
  where?: SQL,
): Promise<Tally[]> {
  const n = sql<number>`count(*)`
  // The unary `+` keeps the date out of the index choice: driven by a date index, SQLite
  // would sort every message of the range by key (most of the cost at 100,000 messages).
  // Instead it walks the key's public-only index in key order, counting as it goes, and skips
  // entries outside the range without reading their rows. The walk covers all public mail,
  // which retention bounds to PUBLIC_RETENTION_HOURS.
  return db
    .select({ _id: sql<string>`${key}`, n })
    .from(messages)
    .where(and(receivedIn(range, sql`+${messages.received}`), isPublicMessage(), where))
    .groupBy(key)
    .orderBy(desc(n), key)
    .limit(page.limit)
    .offset(page.skip)
}

/** Inboxes that received the most public mail. */
export function topAddresses(db: Database, range: DateRange, page: StatsPage): Promise<Tally[]> {
  return tally(db, messages.inbox, range, page)
}

/** Recipient domains that received the most public mail. */
export function topDomains(db: Database, range: DateRange, page: StatsPage): Promise<Tally[]> {
  return tally(db, messages.domain, range, page)
}

/**
 * Senders of the most public mail, by the address in the From header (the `from` every other
 * response shows), lower-cased. Not the envelope sender: bulk mailers put a per-message
 * bounce address there (VERP), which would split one sender into thousands of one-message
 * "senders" and make the list useless for spotting abuse.
 */
export function topSenders(db: Database, range: DateRange, page: StatsPage): Promise<Tally[]> {
  return tally(db, messages.sender, range, page, hasSender(messages))
}

/** Attachments carried by the most public messages received in `range`. */
export function commonAttachments(
  db: Database,
  range: DateRange,
  page: StatsPage,
): Promise<Tally[]> {
  // Counted from each message's own list of attachment MD5s (distinct, so a file attached
  // twice counts once), which messages_public_attachments_idx holds, by date, for the public
  // messages that have any: a range of one index, no lookup into message_attachments or into
  // any message row.
  const md5 = sql<string>`attachment.value`
  const n = sql<number>`count(*)`
  return db
    .select({ _id: md5, n })
    .from(messages)
    .innerJoin(sql`json_each(${messages.attachments}) as attachment`, sql`true`)
    .where(and(receivedIn(range), isPublicMessage(), hasAttachments(messages)))
    .groupBy(md5)
    .orderBy(desc(n), md5)
    .limit(page.limit)
    .offset(page.skip)
}

/** Public messages carrying `md5`, whenever received. */
export async function countAttachmentMessages(db: Database, md5: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(distinct ${messageAttachments.messageId})` })
    .from(messageAttachments)
    .innerJoin(messages, eq(messages.id, messageAttachments.messageId))
    .where(and(eq(messageAttachments.md5, md5), isPublicMessage()))
  return row?.n ?? 0
}

/** Public messages carrying `md5`, newest first. */
export function listAttachmentMessages(db: Database, md5: string, page: StatsPage) {
  const carriers = db
    .select({ id: messageAttachments.messageId })
    .from(messageAttachments)
    .where(eq(messageAttachments.md5, md5))
  return db
    .select(messageColumns)
    .from(messages)
    .where(and(inArray(messages.id, carriers), isPublicMessage()))
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(page.limit)
    .offset(page.skip)
}

/**
 * How a public message carries `md5` (file name, content type), or null when no public
 * message does: the bytes of an attachment seen only in private mail are never served.
 */
export async function findPublicAttachment(db: Database, md5: string) {
  const [row] = await db
    .select({
      filename: messageAttachments.filename,
      contentType: messageAttachments.contentType,
    })
    .from(messageAttachments)
    .innerJoin(messages, eq(messages.id, messageAttachments.messageId))
    .where(and(eq(messageAttachments.md5, md5), isPublicMessage()))
    .limit(1)
  return row ?? null
}
