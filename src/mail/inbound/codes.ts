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

function scoreCandidates(text: string, offset: number): Scored[] {
  // Links carry long ids and tokens that are not for typing.
  const body = text
    .slice(0, MAX_EXTRACT_SCAN_CHARS)
    .replace(URL_LIKE, (url) => ' '.repeat(url.length))
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
    const lineStart = body.lastIndexOf('\n', start - 1) + 1
    const lineEndAt = body.indexOf('\n', end)
    const line = body.slice(lineStart, lineEndAt === -1 ? undefined : lineEndAt).trim()
    const alone = line === raw || /^[^\w]*$/.test(line.replace(raw, ''))
    let distance = Infinity
    for (const word of words) {
      const gap = word.end <= start ? start - word.end : word.start - end
      if (gap >= 0 && gap < distance) distance = gap
    }
    const digits = /^[\d -]+$/.test(raw)
    const sixDigits = digits && raw.replace(/\D/g, '').length === 6
    // Far from any code word, only a 6-digit number on a line of its own still reads as one.
    if (distance > NEAR && !(alone && sixDigits)) continue
    let score = 0
    if (distance <= NEAR) score += 10 - Math.floor(distance / 10)
    // The word before the code ("Your code is 123456") reads more surely than one after it.
    if (words.some((word) => word.end <= start && start - word.end <= 40)) score += 3
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
