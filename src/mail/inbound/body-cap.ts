// Huge text bodies are cut before the parse. postal-mime holds a text part several times over
// (its lines, a Blob of them, their bytes, the decoded string): a 25 MiB body grows the
// isolate by about seven times its size, far beyond the 128 MB a Worker gets. So the raw
// bytes the parser sees keep only the first MAX_PARSED_TEXT_PART_BYTES of each text/plain
// or text/html body part; every other byte (attachments, structure) passes unchanged, and
// the stored raw message is never touched. The scan only cuts where it agrees with the
// parser's own rules (postal-mime's isInlineTextNode and boundary matching); anything it is
// unsure of (a repeated Content-Type, an unknown disposition, a boundary inside the cut) is
// left whole.

import { MAX_PARSED_TEXT_PART_BYTES } from '../../limits'

const LF = 0x0a
const CR = 0x0d
const DASH = 0x2d

/** A byte range of the raw message left out of the parse. */
type Cut = { start: number; end: number }

/** Deeper than any real message; the parser refuses far deeper ones itself. */
const MAX_SCAN_DEPTH = 50

/** Header text of raw[start, end) as one string per (unfolded) header line. */
function headerLines(raw: Uint8Array, start: number, end: number): string[] {
  let text = ''
  for (let i = start; i < end; i += 8192) {
    text += String.fromCharCode(...raw.subarray(i, Math.min(end, i + 8192)))
  }
  return text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)
}

/** Where the body of the part starting at `start` begins (after the blank line), or -1. */
function bodyStart(raw: Uint8Array, start: number, end: number): number {
  if (raw[start] === LF) return start + 1
  if (raw[start] === CR && raw[start + 1] === LF) return start + 2
  for (let i = start; i < end - 1; i++) {
    if (raw[i] !== LF) continue
    if (raw[i + 1] === LF) return i + 2
    if (raw[i + 1] === CR && raw[i + 2] === LF) return i + 3
  }
  return -1
}

/** The one value of header `name`, '' when absent, null when repeated (ambiguous). */
function single(lines: string[], name: string): string | null {
  const values = lines.flatMap((line) => {
    const colon = line.indexOf(':')
    return colon > 0 && line.slice(0, colon).trim().toLowerCase() === name
      ? [line.slice(colon + 1).trim()]
      : []
  })
  return values.length > 1 ? null : (values[0] ?? '')
}

/** Whether raw[at...] is a delimiter line of `boundary` (as postal-mime matches them). */
function isDelimiter(raw: Uint8Array, at: number, end: number, boundary: Uint8Array) {
  if (raw[at] !== DASH || raw[at + 1] !== DASH) return false
  for (let j = 0; j < boundary.length; j++) if (raw[at + 2 + j] !== boundary[j]) return false
  let i = at + 2 + boundary.length
  if (raw[i] === DASH && raw[i + 1] === DASH) i += 2
  while (i < end && (raw[i] === 0x20 || raw[i] === 0x09)) i++
  return i >= end || raw[i] === CR || raw[i] === LF
}

/** Whether a line of raw[start, end) starts with a delimiter of any of `boundaries`. */
function holdsDelimiter(raw: Uint8Array, start: number, end: number, boundaries: Uint8Array[]) {
  for (let i = Math.max(start, 1); i < end - 1; i++) {
    if (raw[i] !== DASH || raw[i + 1] !== DASH) continue
    if (raw[i - 1] !== LF && raw[i - 1] !== CR) continue
    if (boundaries.some((boundary) => isDelimiter(raw, i, end, boundary))) return true
  }
  return false
}

/** The start of every delimiter line of `boundary` in raw[start, end). */
function delimiters(raw: Uint8Array, start: number, end: number, boundary: Uint8Array) {
  const found: number[] = []
  for (let i = start; i < end - 1; i++) {
    if ((i === start || raw[i - 1] === LF) && isDelimiter(raw, i, end, boundary)) found.push(i)
  }
  return found
}

function scanPart(
  raw: Uint8Array,
  start: number,
  end: number,
  digest: boolean,
  boundaries: Uint8Array[],
  cuts: Cut[],
  depth: number,
) {
  if (depth > MAX_SCAN_DEPTH) return
  const body = bodyStart(raw, start, end)
  if (body < 0) return
  const lines = headerLines(raw, start, body)
  const contentType = single(lines, 'content-type')
  const disposition = single(lines, 'content-disposition')
  if (contentType === null || disposition === null) return
  const type = (
    contentType.split(';')[0].trim() || (digest ? 'message/rfc822' : 'text/plain')
  ).toLowerCase()
  if (type.startsWith('multipart/')) {
    const param = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType)
    const value = param?.[1] ?? param?.[2]
    if (!value) return
    const boundary = Uint8Array.from(value, (char) => char.charCodeAt(0) & 0xff)
    const inner = [...boundaries, boundary]
    const found = delimiters(raw, body, end, boundary)
    for (let i = 0; i + 1 < found.length; i++) {
      const partStart = found[i] + 2 + boundary.length
      // The part begins after its delimiter line; it ends where the next one begins.
      const lineEnd = raw.indexOf(LF, partStart)
      if (lineEnd < 0 || lineEnd >= found[i + 1]) continue
      scanPart(raw, lineEnd + 1, found[i + 1], type === 'multipart/digest', inner, cuts, depth + 1)
    }
    return
  }
  const inline = disposition === '' || /^inline\s*(;|$)/i.test(disposition)
  if ((type !== 'text/plain' && type !== 'text/html') || !inline) return
  if (end - body <= MAX_PARSED_TEXT_PART_BYTES) return
  // Cut at a line end, so an encoded line (base64, quoted-printable) is kept whole or not at all.
  const lineEnd = raw.indexOf(LF, body + MAX_PARSED_TEXT_PART_BYTES)
  if (lineEnd < 0 || lineEnd + 1 >= end) return
  if (holdsDelimiter(raw, lineEnd + 1, end, boundaries)) return
  cuts.push({ start: lineEnd + 1, end })
}

/**
 * The bytes the parser is given: `raw` itself when no text part is larger than
 * MAX_PARSED_TEXT_PART_BYTES, else a copy without the rest of each such part. `cut` says
 * whether any body was shortened.
 */
export function parserInput(raw: Uint8Array): { bytes: Uint8Array; cut: boolean } {
  const cuts: Cut[] = []
  scanPart(raw, 0, raw.byteLength, false, [], cuts, 0)
  if (cuts.length === 0) return { bytes: raw, cut: false }
  const kept = cuts.reduce((size, cut) => size - (cut.end - cut.start), raw.byteLength)
  const bytes = new Uint8Array(kept)
  let from = 0
  let to = 0
  for (const cut of cuts) {
    bytes.set(raw.subarray(from, cut.start), to)
    to += cut.start - from
    from = cut.end
  }
  bytes.set(raw.subarray(from), to)
  return { bytes, cut: true }
}
