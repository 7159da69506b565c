import type { Recipient } from '../../db/schema'
import { SEARCH_TEXT_CHARS } from '../../limits'
import type { ParsedMessage } from './parse'

const people = (list: Recipient[]) => list.map((p) => `${p.name} <${p.address}>`).join(', ')

/**
 * What plain search words match (`messages.search_text`): the subject, the From, To and Cc
 * people, then the first SEARCH_TEXT_CHARS of the text body (or of the HTML's text without
 * one). One column, so a plain word costs one instr() per row instead of one per field plus a
 * json_each() per address list; lower-cased here because JavaScript lower-cases all of
 * Unicode, where SQLite's lower() knows only ASCII.
 */
export function searchText(parsed: ParsedMessage, htmlText: string): string {
  const head = [parsed.subject, people(parsed.from), people([...parsed.to, ...parsed.cc])]
  const body = (parsed.text || htmlText).slice(0, SEARCH_TEXT_CHARS)
  return [...head, body].join('\n').toLowerCase()
}
