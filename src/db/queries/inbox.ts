import { and, desc, eq, gt, inArray, or, sql, type SQL } from 'drizzle-orm'
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

/**
 * SQL: `needle` may be in a person of the list: its JSON text contains it. A cheap instr that
 * spares json_each on every row that cannot match (#17.3 p99); undefined when the needle
 * could span the `name <address>` joins or a JSON escape, so the text cannot rule it out.
 * `lowered` is the needle lowered as the exact condition lowers it (SQL's lower() is ASCII-only).
 */
export function jsonMayContain(column: SQL, needle: string, lowered: SQL): SQL | undefined {
  if (/["\\<>]/.test(needle) || /[\x00-\x1f\u2028\u2029]/.test(needle)) return undefined
  return sql`instr(lower(${column}), ${lowered}) > 0`
}

/** One of a recipient list's `.address` values contains `needle`. */
function addressContains(column: typeof messages.from | typeof messages.to, needle: string): SQL {
  const exact = sql`exists (select 1 from json_each(${column}) where instr(lower(json_extract(value, '$.address')), lower(${needle})) > 0)`
  const may = jsonMayContain(sql`${column}`, needle, sql`lower(${needle})`)
  return may ? (and(may, exact) as SQL) : exact
}

/**
 * The newest `limit` matches, columns read for those rows only. The ids are sorted first: a
 * sort of every match's full row reads each one's overflow pages (the columns stored after
 * the 4 KB search text), most of the time at 10,000 messages (#17.3 p99).
 */
export function newestMatching(db: Database, where: SQL | undefined, limit: number) {
  const ids = db
    .select({ id: messages.id })
    .from(messages)
    .where(where)
    .orderBy(desc(messages.received), desc(messages.id))
    .limit(limit)
  return db
    .select(messageColumns)
    .from(messages)
    .where(inArray(messages.id, ids))
    .orderBy(desc(messages.received), desc(messages.id))
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
  return newestMatching(
    db,
    and(inOwnInboxVisible(accountId), mode === 'and' ? and(...conditions) : or(...conditions)),
    MAX_SEARCH_RESULTS,
  )
}
