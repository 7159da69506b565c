import { and, desc, eq, gt, or, sql, type SQL } from 'drizzle-orm'
import type { Database } from '../client'
import { messages } from '../schema'
import { messageColumns } from './messages'
import { inOwnInboxVisible } from './privacy'

/** Most results the filter and search views return (Mailsac: "A maximum of 100 results"). */
export const MAX_SEARCH_RESULTS = 100

/** Case-insensitive "contains", without LIKE so `%` and `_` in user input mean themselves. */
function contains(column: SQL, needle: string): SQL {
  return sql`instr(lower(${column}), lower(${needle})) > 0`
}

/** One of a recipient list's `.address` values contains `needle`. */
function addressContains(column: typeof messages.from | typeof messages.to, needle: string): SQL {
  return sql`exists (select 1 from json_each(${column}) where instr(lower(json_extract(value, '$.address')), lower(${needle})) > 0)`
}

/** GET /api/inbox: every message of the account's own inboxes, newest first, with unread count. */
export async function accountInbox(
  db: Database,
  accountId: string,
  page: { limit: number; skip: number; since?: Date },
) {
  const owned = inOwnInboxVisible(accountId)
  const [rows, unread] = await db.batch([
    db
      .select(messageColumns)
      .from(messages)
      .where(and(owned, page.since ? gt(messages.received, page.since) : undefined))
      .orderBy(desc(messages.received), desc(messages.id))
      .limit(page.limit)
      .offset(page.skip),
    db
      .select({ count: sql<number>`count(*)` })
      .from(messages)
      .where(and(owned, eq(messages.read, false))),
  ])
  return { rows, unread: unread[0]?.count ?? 0 }
}

export type SearchTerms = { subject?: string; from?: string; to?: string; read?: boolean }

/**
 * The account's messages matching search terms: all of them (`mode: 'and'`, inbox-filter) or
 * any of them (`mode: 'or'`, inbox-search; no terms at all matches every message). At most
 * MAX_SEARCH_RESULTS, newest first.
 */
export async function searchAccountMessages(
  db: Database,
  accountId: string,
  terms: SearchTerms,
  mode: 'and' | 'or',
) {
  const conditions = [
    terms.subject ? contains(sql`${messages.subject}`, terms.subject) : undefined,
    terms.from ? addressContains(messages.from, terms.from) : undefined,
    terms.to ? addressContains(messages.to, terms.to) : undefined,
    terms.read === undefined ? undefined : eq(messages.read, terms.read),
  ].filter((condition): condition is SQL => condition !== undefined)
  return db
    .select(messageColumns)
    .from(messages)
    .where(
      and(inOwnInboxVisible(accountId), mode === 'and' ? and(...conditions) : or(...conditions)),
    )
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(MAX_SEARCH_RESULTS)
}
