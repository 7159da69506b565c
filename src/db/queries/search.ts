// The SQL of the search syntax (src/lib/search-query.ts). Every value is a bound parameter;
// "contains" is instr(lower(...)) rather than LIKE, so `%` and `_` in a query mean themselves.
import { and, eq, gte, isNotNull, lt, not, or, sql, type SQL } from 'drizzle-orm'
import type { SearchQuery, SearchTerm } from '../../lib/search-query'
import type { Database } from '../client'
import { messages } from '../schema'
import { jsonMayContain, MAX_SEARCH_RESULTS, newestMatching } from './inbox'
import { newestInInbox } from './messages'
import { inOwnInboxVisible } from './privacy'

/** Case-insensitive "contains" on a text column. */
function contains(column: SQL, needle: string): SQL {
  return sql`instr(lower(${column}), ${needle.toLowerCase()}) > 0`
}

/** One person of a recipient list, as `name <address>`, contains `needle`. */
function personContains(
  column: typeof messages.from | typeof messages.to | typeof messages.cc,
  needle: string,
): SQL {
  const exact = sql`exists (select 1 from json_each(${column}) where instr(lower(coalesce(json_extract(value, '$.name'), '') || ' <' || coalesce(json_extract(value, '$.address'), '') || '>'), ${needle.toLowerCase()}) > 0)`
  const may = jsonMayContain(sql`${column}`, needle, sql`${needle.toLowerCase()}`)
  return may ? (and(may, exact) as SQL) : exact
}

/** The trigram tokenizer indexes 3-character substrings: shorter needles cannot use it. */
const FTS_MIN_CHARS = 3

/**
 * A plain word or phrase: contained in the subject, people and body, one lower-cased column
 * (src/mail/inbound/search-text.ts). A wanted needle of 3+ characters is looked up in the
 * trigram index (migrations/0011_search_fts.sql) first, then checked with instr on those
 * candidates only, so the answer is exactly instr's; a negated or short one is instr alone.
 */
function textCondition(value: string, negated: boolean): SQL {
  const needle = value.toLowerCase()
  const plain = sql`instr(${messages.searchText}, ${needle}) > 0`
  if (negated || [...needle].length < FTS_MIN_CHARS) return plain
  // One FTS5 string, quoted, so the user's words are never read as FTS5 query syntax.
  const phrase = `"${needle.replaceAll('"', '""')}"`
  return sql`${messages.id} in (select message_id from messages_fts_ids where rowid in (select rowid from messages_fts where messages_fts match ${phrase})) and ${plain}`
}

function termCondition(term: SearchTerm): SQL {
  switch (term.kind) {
    case 'text':
      return textCondition(term.value, term.negated)
    case 'from':
      return personContains(messages.from, term.value)
    case 'to':
      // As in the wait filter: To, Cc, or the inbox it was delivered to.
      return or(
        personContains(messages.to, term.value),
        personContains(messages.cc, term.value),
        contains(sql`${messages.inbox}`, term.value),
      ) as SQL
    case 'subject':
      return contains(sql`${messages.subject}`, term.value)
    case 'label':
      return sql`exists (select 1 from json_each(${messages.labels}) where lower(value) = ${term.value.toLowerCase()})`
    case 'hasAttachment':
      return sql`${messages.attachments} <> '[]'`
    case 'read':
      return eq(messages.read, true)
    case 'unread':
      return eq(messages.read, false)
    case 'starred':
      return isNotNull(messages.savedBy)
    case 'after':
      return gte(messages.received, term.date)
    case 'before':
      return lt(messages.received, term.date)
    case 'larger':
      return sql`${messages.size} > ${term.bytes}`
    case 'smaller':
      return sql`${messages.size} < ${term.bytes}`
  }
}

/** SQL: the message matches every term of the query (undefined for an empty query). */
export function searchCondition(query: SearchQuery): SQL | undefined {
  return and(
    ...query.terms.map((term) => {
      const condition = termCondition(term)
      return term.negated ? not(condition) : condition
    }),
  )
}

/** A page of an inbox matching a search, newest first (GET .../messages?q=). */
export function searchInboxMessages(
  db: Database,
  inbox: string,
  viewerId: string | null,
  page: { until?: Date; limit: number },
  query: SearchQuery,
) {
  return newestInInbox(db, inbox, viewerId, page.limit, [
    page.until ? lt(messages.received, page.until) : undefined,
    searchCondition(query),
  ])
}

/** The account's own mail matching a search: at most MAX_SEARCH_RESULTS, newest first. */
export function searchAccountMail(db: Database, accountId: string, query: SearchQuery) {
  return newestMatching(
    db,
    and(inOwnInboxVisible(accountId), searchCondition(query)),
    MAX_SEARCH_RESULTS,
  )
}
