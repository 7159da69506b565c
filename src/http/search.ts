import { parseSearchQuery, type SearchQuery } from '../lib/search-query'
import { fail } from './errors'

/** The parsed search syntax of `?q=` / `?query=`; malformed input answers 400 with the reason. */
export function searchQueryOrFail(input: string): SearchQuery {
  const parsed = parseSearchQuery(input)
  if (!parsed.ok) fail(400, `Invalid search: ${parsed.message}`)
  return parsed.query
}
