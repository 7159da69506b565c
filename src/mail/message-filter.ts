import type { Database } from '../db/client'
import { withHeaders, type MessageRow, type MessageWithHeaders } from '../db/queries/messages'
import type { HeaderList } from '../db/schema'
import { WAIT_MAX_REGEX_CHARS, WAIT_REGEX_INPUT_CHARS } from '../limits'
import { readContent } from './inbound/storage'

/** What the wait and latest routes match messages against; every field must hold. */
export type MessageFilter = {
  /** Contained (case-insensitive) in a From address or name. */
  from?: string
  /** Contained (case-insensitive) in a To or Cc address or name, or the inbox. */
  to?: string
  /** Contained (case-insensitive) in the subject. */
  subject?: string
  /** Contained (case-insensitive) in the subject or the text body. */
  text?: string
  /** Tested on the subject, a newline and the text body's first WAIT_REGEX_INPUT_CHARS. */
  regex?: RegExp
  /** Header name (any case) and its exact value; every pair must be present. */
  headers?: [string, string][]
  hasCode?: boolean
  hasLink?: boolean
}

/** A quantified group that holds a quantifier, or a backreference: the patterns that backtrack. */
const BACKTRACKING = /\((?:[^()\\]|\\.)*[+*}?]\)\s*[+*{]|\\[1-9]|\\k</

/**
 * Parses the `regex` option: `pattern` or `/pattern/flags` (flags of i, m, s, u). JavaScript's
 * engine backtracks, so the pattern is bounded in length, nested quantifiers and
 * backreferences are refused, and it only ever runs on bounded input. Returns an error
 * message instead of throwing, for the route to answer 400.
 */
export function parseRegex(input: string): RegExp | string {
  if (input.length > WAIT_MAX_REGEX_CHARS) {
    return `regex: at most ${WAIT_MAX_REGEX_CHARS} characters.`
  }
  const literal = /^\/(.*)\/([imsu]*)$/s.exec(input)
  const [source, flags] = literal ? [literal[1], literal[2]] : [input, '']
  if (BACKTRACKING.test(source)) {
    return 'regex: nested quantifiers and backreferences are not allowed.'
  }
  try {
    return new RegExp(source, flags)
  } catch (error) {
    return `regex: ${(error as Error).message}`
  }
}

const contains = (haystack: string, needle: string) =>
  haystack.toLowerCase().includes(needle.toLowerCase())

const people = (list: MessageRow['from']) => list.map((p) => `${p.name} <${p.address}>`).join(', ')

/** The filter on what the row itself holds (no R2 read). */
function rowMatches(row: MessageRow, filter: MessageFilter): boolean {
  if (filter.from && !contains(people(row.from), filter.from)) return false
  if (filter.to && !contains(`${people([...row.to, ...row.cc])}, ${row.inbox}`, filter.to)) {
    return false
  }
  if (filter.subject && !contains(row.subject, filter.subject)) return false
  if (filter.hasCode && row.codes.length === 0) return false
  if (filter.hasLink && row.links.length === 0) return false
  return true
}

/** Every header pair of the filter is among `headers`. */
function headersMatch(headers: HeaderList, filter: MessageFilter): boolean {
  return (filter.headers ?? []).every(([name, value]) => {
    const wanted = name.toLowerCase()
    return headers.some(([key, actual]) => key === wanted && actual.trim() === value)
  })
}

/**
 * The rows matching `filter`, in the order given, at most `limit`, with their headers. The
 * headers (stored once per delivery, not in the rows) are read for the rows that passed the
 * row's own fields when the filter tests them, else only for the matches; the text body is
 * read from R2 only for rows that passed everything else, and only when the filter needs it.
 */
export async function matchingMessages(
  db: Database,
  bucket: R2Bucket,
  rows: MessageRow[],
  filter: MessageFilter,
  limit: number,
): Promise<MessageWithHeaders[]> {
  const candidates = rows.filter((row) => rowMatches(row, filter))
  const testsHeaders = (filter.headers ?? []).length > 0
  const checked = testsHeaders
    ? (await withHeaders(db, candidates)).filter((row) => headersMatch(row.headers, filter))
    : candidates
  const matches: MessageRow[] = []
  for (const row of checked) {
    if (matches.length >= limit) break
    if (filter.text || filter.regex) {
      const { text } = await readContent(bucket, row)
      if (filter.text && !contains(`${row.subject}\n${text}`, filter.text)) continue
      if (filter.regex) {
        const input = `${row.subject}\n${text.slice(0, WAIT_REGEX_INPUT_CHARS)}`
        filter.regex.lastIndex = 0
        if (!filter.regex.test(input)) continue
      }
    }
    matches.push(row)
  }
  return testsHeaders ? (matches as MessageWithHeaders[]) : withHeaders(db, matches)
}
