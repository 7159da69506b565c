// One-time codes and the action link of a message, guessed once at ingest so a test can ask
// "the code of the sign-up email" without parsing mail itself. Heuristics, so they rank
// rather than decide: a code must stand near a word that announces it (code, OTP, PIN, ...),
// and numbers that look like years, phone numbers, prices or order numbers are pushed down
// or out, since a test that types the wrong number fails confusingly.

import { MAX_EXTRACT_SCAN_CHARS, MAX_MESSAGE_CODES } from '../../limits'
import type { Anchor } from './links'

/** Words that announce a code; a candidate is scored by how close it is to one. */
const CODE_WORD =
  /\b(?:code|codes|otp|one[- ]time|verification|verify|pin|passcode|password|security|confirmation|2fa|mfa|token|login|sign[- ]in)\b/gi

/** Words that announce another kind of number. */
const OTHER_NUMBER_WORD =
  /(?:order|invoice|ticket|case|ref(?:erence)?|account|acct|phone|tel|call|fax|zip|postal|tracking|customer|member|no\.|number|#)\s*[:#]?\s*$/i

/** A candidate: 4-8 digits, 3+3 digits with a separator, or a short token with a digit. */
// Not inside a longer number ("+1 555 123 4567", "2026-12-01", "$1,200.00"), a word or a path.
const CANDIDATE =
  /(?<![\w.,:/$€£+-]|\d )(\d{3}[- ]\d{3}|\d{4,8}|(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,10})(?![\w/$€£%]|[.,:-]\d| \d)/g

const URL_LIKE = /\b(?:https?:\/\/|www\.)\S+/gi

/** How far (characters) from a code word a code may stand. */
const NEAR = 80

type Scored = { code: string; score: number; position: number }

/** How far (characters) to look for the ends of a candidate's line: a longer line is not "alone". */
const LINE_LOOK = 200

/** The index of the first word starting at or after `at` (`words` sorted by start). */
function firstWordFrom(words: { start: number; end: number }[], at: number): number {
  let low = 0
  let high = words.length
  while (low < high) {
    const middle = (low + high) >> 1
    if (words[middle].start < at) low = middle + 1
    else high = middle
  }
  return low
}

/**
 * Whether the candidate stands on a line of its own (only punctuation beside it). Looks at most
 * LINE_LOOK characters each way, so a body that is one long line costs no more per candidate.
 */
function standsAlone(body: string, start: number, end: number, raw: string): boolean {
  const from = Math.max(0, start - LINE_LOOK)
  const before = body.slice(from, start)
  const newlineBefore = before.lastIndexOf('\n')
  if (newlineBefore === -1 && from > 0) return false
  const after = body.slice(end, end + LINE_LOOK)
  const newlineAfter = after.indexOf('\n')
  if (newlineAfter === -1 && end + LINE_LOOK < body.length) return false
  const line = (
    before.slice(newlineBefore + 1) +
    raw +
    (newlineAfter === -1 ? after : after.slice(0, newlineAfter))
  ).trim()
  return line === raw || /^[^\w]*$/.test(line.replace(raw, ''))
}

function scoreCandidates(text: string, offset: number): Scored[] {
  // Links carry long ids and tokens that are not for typing.
  const body = text
    .slice(0, MAX_EXTRACT_SCAN_CHARS)
    .replace(URL_LIKE, (url) => ' '.repeat(url.length))
  // In order of position; words never overlap, so their ends are in order too.
  const words = [...body.matchAll(CODE_WORD)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
  }))
  const scored: Scored[] = []
  for (const match of body.matchAll(CANDIDATE)) {
    const raw = match[1]
    const start = match.index
    const end = start + raw.length
    const before = body.slice(Math.max(0, start - 30), start)
    if (OTHER_NUMBER_WORD.test(before)) continue
    const alone = standsAlone(body, start, end, raw)
    // The nearest code word before the candidate and the nearest after it (binary search: a
    // body full of codes and code words stays linear, not quadratic).
    const next = firstWordFrom(words, end)
    let last = next - 1
    while (last >= 0 && words[last].end > start) last--
    const previous = last >= 0 ? words[last] : undefined
    const gapBefore = previous ? start - previous.end : Infinity
    const gapAfter = next < words.length ? words[next].start - end : Infinity
    const distance = Math.min(gapBefore, gapAfter)
    const digits = /^[\d -]+$/.test(raw)
    const sixDigits = digits && raw.replace(/\D/g, '').length === 6
    // Far from any code word, only a 6-digit number on a line of its own still reads as one.
    if (distance > NEAR && !(alone && sixDigits)) continue
    let score = 0
    if (distance <= NEAR) score += 10 - Math.floor(distance / 10)
    // The word before the code ("Your code is 123456") reads more surely than one after it.
    if (gapBefore <= 40) score += 3
    if (alone) score += 4
    if (sixDigits) score += 3
    // A year next to a code word ("Sent 2026") is dropped unless it stands on a line alone.
    if (digits && /^(?:19|20)\d\d$/.test(raw)) score -= 10
    if (/[©]|copyright/i.test(before)) score -= 8
    if (score <= 3) continue
    scored.push({ code: digits ? raw.replace(/\D/g, '') : raw, score, position: offset + start })
  }
  return scored
}

/**
 * The one-time codes of a message, most likely first: from the text body and from the text
 * of the HTML body (many senders have only one of them), at most MAX_MESSAGE_CODES.
 */
export function findCodes(text: string, htmlText: string): string[] {
  const scored = [...scoreCandidates(text, 0), ...scoreCandidates(htmlText, text.length)]
  scored.sort((a, b) => b.score - a.score || a.position - b.position)
  const codes = new Set<string>()
  for (const { code } of scored) {
    if (codes.size >= MAX_MESSAGE_CODES) break
    codes.add(code)
  }
  return [...codes]
}

const ACTION_WORD =
  /verif|confirm|reset|magic|activat|sign[-_ ]?in|signin|log[-_ ]?in|login|auth|validat|invit|accept|complete|get started|set (?:up )?(?:your )?password/i
const NOT_ACTION =
  /unsubscribe|opt[-_ ]?out|preferences|privacy|terms|support|help|contact|view (?:this |it )?in (?:your )?browser|webversion|manage/i

/**
 * The link a test most likely wants to follow (verify, confirm, reset, magic sign-in), by
 * the words of its URL and of its anchor text; null when no link looks like one.
 */
export function findActionLink(links: string[], anchors: Anchor[]): string | null {
  const anchorText = new Map<string, string>()
  for (const anchor of anchors) {
    anchorText.set(anchor.href, `${anchorText.get(anchor.href) ?? ''} ${anchor.text}`)
  }
  let best: { link: string; score: number } | null = null
  for (const link of links) {
    const text = anchorText.get(link) ?? ''
    let url = link
    try {
      const parsed = new URL(link)
      url = `${parsed.hostname}${parsed.pathname}${parsed.search}`
    } catch {
      // linkify-it only hands over parsable links; keep the string as it is if not.
    }
    if (NOT_ACTION.test(url) || NOT_ACTION.test(text)) continue
    const score = (ACTION_WORD.test(text) ? 2 : 0) + (ACTION_WORD.test(url) ? 1 : 0)
    if (score > 0 && (!best || score > best.score)) best = { link, score }
  }
  return best?.link ?? null
}
