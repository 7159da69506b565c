import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm'
import type { Database } from '../client'
import { messageAttachments, messages } from '../schema'
import { isPublicMessage } from './privacy'

/** `startDate` inclusive, `endDate` exclusive, so consecutive ranges never count a message twice. */
export type DateRange = { startDate: Date; endDate: Date }
export type StatsPage = { limit: number; skip: number }
/** One row of Mailsac's stats lists: what was counted and how many messages. */
export type Tally = { _id: string; n: number }

// Every query here shows mail to anyone, so every one filters with isPublicMessage(): reserved
// inboxes, owned domains and starred messages are never counted, listed or served.

function receivedIn(range: DateRange): SQL | undefined {
  return and(gte(messages.received, range.startDate), lt(messages.received, range.endDate))
}

/** Counts public messages received in `range` per `key`, most first (ties by key). */
function tally(db: Database, key: SQL<string>, range: DateRange, page: StatsPage, where?: SQL) {
  const n = sql<number>`count(*)`
  return db
    .select({ _id: key, n })
    .from(messages)
    .where(and(receivedIn(range), isPublicMessage(), where))
    .groupBy(key)
    .orderBy(desc(n), key)
    .limit(page.limit)
    .offset(page.skip)
}

/** Inboxes that received the most public mail. */
export function topAddresses(db: Database, range: DateRange, page: StatsPage): Promise<Tally[]> {
  return tally(db, sql<string>`${messages.inbox}`, range, page)
}

/** Recipient domains that received the most public mail. */
export function topDomains(db: Database, range: DateRange, page: StatsPage): Promise<Tally[]> {
  return tally(db, sql<string>`${messages.domain}`, range, page)
}

/**
 * Senders of the most public mail, by the address in the From header (the `from` every other
 * response shows), lower-cased. Not the envelope sender: bulk mailers put a per-message
 * bounce address there (VERP), which would split one sender into thousands of one-message
 * "senders" and make the list useless for spotting abuse.
 */
export function topSenders(db: Database, range: DateRange, page: StatsPage): Promise<Tally[]> {
  const sender = sql<string>`${messages.sender}`
  return tally(db, sender, range, page, sql`${messages.sender} <> ''`)
}

/** Attachments carried by the most public messages received in `range`. */
export function commonAttachments(
  db: Database,
  range: DateRange,
  page: StatsPage,
): Promise<Tally[]> {
  // A message may carry the same file twice; it counts once.
  const n = sql<number>`count(distinct ${messageAttachments.messageId})`
  // Most mail carries no attachment, so the query walks message_attachments and looks each
  // message up by id rather than reading every message of the range. The unary `+` keeps
  // SQLite from driving the join by messages_received_idx instead.
  const receivedInRange = and(
    sql`+${messages.received} >= ${range.startDate.getTime()}`,
    sql`+${messages.received} < ${range.endDate.getTime()}`,
  )
  return db
    .select({ _id: messageAttachments.md5, n })
    .from(messageAttachments)
    .innerJoin(messages, eq(messages.id, messageAttachments.messageId))
    .where(and(receivedInRange, isPublicMessage()))
    .groupBy(messageAttachments.md5)
    .orderBy(desc(n), messageAttachments.md5)
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
    .select()
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
