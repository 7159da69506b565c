import type { MessageRow } from '../db/queries/messages'
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
  for (const [name, value] of filter.headers ?? []) {
    const wanted = name.toLowerCase()
    if (!row.headers.some(([key, actual]) => key === wanted && actual.trim() === value)) {
      return false
    }
  }
  return true
}

/**
 * The rows matching `filter`, in the order given, at most `limit`. The text body is read
 * from R2 only for rows that passed everything else, and only when the filter needs it.
 */
export async function matchingMessages(
  bucket: R2Bucket,
  rows: MessageRow[],
  filter: MessageFilter,
  limit: number,
): Promise<MessageRow[]> {
  const matches: MessageRow[] = []
  for (const row of rows) {
    if (matches.length >= limit) break
    if (!rowMatches(row, filter)) continue
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
  return matches
}
