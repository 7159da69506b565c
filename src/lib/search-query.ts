// The search syntax of an inbox's list (`?q=`) and the account-wide search (`?query=`), in the
// style of Gmail's: `from:alice subject:"your code" -is:read has:attachment larger:10k invoice`.
// Pure: the SQL for a parsed query is built in src/db/queries/search.ts.

import { SEARCH_MAX_TERM_CHARS, SEARCH_MAX_TERMS } from '../limits'

/** One condition on a message; `negated` turns it into "not". */
export type SearchTerm = { negated: boolean } & (
  | { kind: 'text'; value: string }
  | { kind: 'from' | 'to' | 'subject' | 'label'; value: string }
  | { kind: 'hasAttachment' | 'read' | 'unread' | 'starred' }
  | { kind: 'after' | 'before'; date: Date }
  | { kind: 'larger' | 'smaller'; bytes: number }
)

export type SearchQuery = { terms: SearchTerm[] }

export type SearchParse = { ok: true; query: SearchQuery } | { ok: false; message: string }

const OPERATORS = [
  'from',
  'to',
  'subject',
  'label',
  'has',
  'is',
  'after',
  'before',
  'larger',
  'smaller',
] as const
type Operator = (typeof OPERATORS)[number]

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

class SearchSyntaxError extends Error {}

/** A raw token: `-`? then `op:`? then a word or a quoted phrase. */
type Token = { negated: boolean; operator: string | null; value: string; quoted: boolean }

function tokenize(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < input.length) {
    if (/\s/.test(input[i])) {
      i++
      continue
    }
    const start = i
    let negated = false
    if (input[i] === '-') {
      negated = true
      i++
    }
    // An operator is letters then a colon, directly followed by its value.
    const operator = /^([a-z]+):(?=\S)/i.exec(input.slice(i))
    const name = operator ? operator[1].toLowerCase() : null
    if (operator) i += operator[0].length
    let value: string
    let quoted = false
    if (input[i] === '"') {
      const end = input.indexOf('"', i + 1)
      if (end < 0) {
        throw new SearchSyntaxError(
          `Unbalanced quote at character ${i + 1}: close the phrase with ".`,
        )
      }
      value = input.slice(i + 1, end)
      quoted = true
      i = end + 1
      if (i < input.length && !/\s/.test(input[i])) {
        throw new SearchSyntaxError(`Put a space after the closing quote at character ${i}.`)
      }
    } else {
      const end = input.slice(i).search(/\s/)
      value = end < 0 ? input.slice(i) : input.slice(i, i + end)
      i += value.length
      if (value.includes('"')) {
        throw new SearchSyntaxError(
          `Unbalanced quote in "${value}": quotes go around a whole phrase or operator value.`,
        )
      }
    }
    if (value === '' && !quoted) {
      throw new SearchSyntaxError(
        `Nothing after "${input.slice(start, i)}" at character ${start + 1}.`,
      )
    }
    if (value.length > SEARCH_MAX_TERM_CHARS) {
      throw new SearchSyntaxError(
        `A search term may hold at most ${SEARCH_MAX_TERM_CHARS} characters.`,
      )
    }
    tokens.push({ negated, operator: name, value, quoted })
  }
  return tokens
}

/** `YYYY-MM-DD` as midnight UTC of that day. */
function parseDate(operator: string, value: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const date = match ? new Date(Date.UTC(+match[1], +match[2] - 1, +match[3])) : null
  // Date.UTC rolls 2026-02-31 over to March; a date that does not round-trip is not a date.
  if (!date || date.toISOString().slice(0, 10) !== value) {
    throw new SearchSyntaxError(`${operator}: wants a date as YYYY-MM-DD, not "${value}".`)
  }
  return date
}

/** `500`, `10k`, `2M`, `1.5m` (binary units) as bytes. */
function parseSize(operator: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(value)
  if (!match) {
    throw new SearchSyntaxError(
      `${operator}: wants a size such as 500, 10k or 2M (bytes, KiB, MiB), not "${value}".`,
    )
  }
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()])
}

function toTerm({ negated, operator, value, quoted }: Token): SearchTerm {
  if (operator === null) {
    if (value.trim() === '') throw new SearchSyntaxError('An empty phrase ("") matches nothing.')
    // `from: alice` (a space after the colon) would search the text "from:" and "alice".
    const bare = /^([a-z]+):$/i.exec(value)
    if (bare && !quoted && (OPERATORS as readonly string[]).includes(bare[1].toLowerCase())) {
      throw new SearchSyntaxError(`${value} wants its value right after the colon, no space.`)
    }
    return { negated, kind: 'text', value }
  }
  if (!(OPERATORS as readonly string[]).includes(operator)) {
    throw new SearchSyntaxError(
      `Unknown search operator "${operator}:". Known: ${OPERATORS.map((o) => `${o}:`).join(', ')}. ` +
        `To search for the text itself, quote it: "${operator}:${value}".`,
    )
  }
  const op = operator as Operator
  if (quoted && value === '') throw new SearchSyntaxError(`${op}: wants a value.`)
  switch (op) {
    case 'from':
    case 'to':
    case 'subject':
    case 'label':
      return { negated, kind: op, value }
    case 'has':
      if (value.toLowerCase() === 'attachment') return { negated, kind: 'hasAttachment' }
      throw new SearchSyntaxError(`has: knows only "attachment", not "${value}".`)
    case 'is': {
      const state = value.toLowerCase()
      if (state === 'read' || state === 'unread' || state === 'starred') {
        return { negated, kind: state }
      }
      throw new SearchSyntaxError(`is: knows read, unread and starred, not "${value}".`)
    }
    case 'after':
    case 'before':
      return { negated, kind: op, date: parseDate(op, value) }
    case 'larger':
    case 'smaller':
      return { negated, kind: op, bytes: parseSize(op, value) }
  }
}

/**
 * Whether a query uses the syntax at all: a known operator, a quote, or a term starting with
 * `-`. The account-wide search answers anything else as Mailsac does (the whole query
 * contained in subject, from or to), so Mailsac clients see no change, `http://x` included.
 */
export function usesSearchSyntax(input: string): boolean {
  return (
    input.includes('"') ||
    /(?:^|\s)-\S/.test(input) ||
    new RegExp(`(?:^|\\s)-?(?:${OPERATORS.join('|')}):`, 'i').test(input)
  )
}

/**
 * Parses a search query. Terms are separated by spaces and all must hold. Returns a message
 * for a 400 instead of throwing on malformed input (an unbalanced quote, an unknown operator,
 * a bad date or size, too many terms).
 */
export function parseSearchQuery(input: string): SearchParse {
  try {
    const tokens = tokenize(input)
    if (tokens.length > SEARCH_MAX_TERMS) {
      throw new SearchSyntaxError(`A search may hold at most ${SEARCH_MAX_TERMS} terms.`)
    }
    const terms = tokens.map(toTerm)
    return { ok: true, query: { terms } }
  } catch (error) {
    if (error instanceof SearchSyntaxError) return { ok: false, message: error.message }
    throw error
  }
}
