// One scan of a raw message's MIME structure, over its bytes and without decoding anything:
// where each leaf part's body lies, its type, disposition and Content-Transfer-Encoding, and
// which of them postal-mime will make a text body or an attachment (its collectNode rules).
// body-cap.ts uses it to cut what the parser need not hold (huge text bodies, huge encoded
// attachments); parse.ts uses it for what postal-mime does not expose (the transfer encoding).
// Where the scan is unsure of what the parser will do (a repeated Content-Type, a comment in
// one, a part without a body, an encoded inline message), it says so (`complete: false`)
// rather than guess.

const LF = 0x0a
const CR = 0x0d
const DASH = 0x2d

/** Deeper than any real message; the parser refuses far deeper ones itself. */
const MAX_SCAN_DEPTH = 50
/** postal-mime's MAX_RFC822_NESTING_DEPTH: deeper inline messages are attachments. */
const MAX_RFC822_DEPTH = 10

export type ScannedPart = {
  /** Where the body starts (after the blank line) and ends (where the next delimiter starts). */
  bodyStart: number
  end: number
  /** Lower-case media type, and disposition ('' when absent). */
  type: string
  disposition: string
  /** The Content-Transfer-Encoding token as sent, lower-case; '' when absent. */
  transferEncoding: string
  /** The delimiters of every enclosing multipart: a cut must not hold one. */
  boundaries: Uint8Array[]
  /** What postal-mime makes of it. */
  role: 'text' | 'attachment'
}

export type Scan = {
  /** Text and attachment parts in the order postal-mime lists them. */
  parts: ScannedPart[]
  /** False when some part could not be read as the parser will: `parts` may then miss some. */
  complete: boolean
}

type Leaf = Omit<ScannedPart, 'role'> & { headerStart: number }
type Tree = { leaves: Leaf[]; complete: boolean }

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

/** The lower-case value before the parameters, null when a comment or quote makes it unsure. */
function leadingToken(value: string): string | null {
  const token = value.split(';')[0].trim().toLowerCase()
  return /[("\s]/.test(token) ? null : token
}

/** 1 for a delimiter line of `boundary` at raw[at...], 2 for its closing one, else 0. */
function delimiterAt(raw: Uint8Array, at: number, end: number, boundary: Uint8Array): number {
  if (raw[at] !== DASH || raw[at + 1] !== DASH) return 0
  for (let j = 0; j < boundary.length; j++) if (raw[at + 2 + j] !== boundary[j]) return 0
  let i = at + 2 + boundary.length
  const closing = raw[i] === DASH && raw[i + 1] === DASH
  if (closing) i += 2
  while (i < end && (raw[i] === 0x20 || raw[i] === 0x09)) i++
  if (i < end && raw[i] !== CR && raw[i] !== LF) return 0
  return closing ? 2 : 1
}

/** Whether a line of raw[start, end) starts with a delimiter of any of `boundaries`. */
export function holdsDelimiter(
  raw: Uint8Array,
  start: number,
  end: number,
  boundaries: Uint8Array[],
) {
  for (let i = Math.max(start, 1); i < end - 1; i++) {
    if (raw[i] !== DASH || raw[i + 1] !== DASH) continue
    if (raw[i - 1] !== LF && raw[i - 1] !== CR) continue
    if (boundaries.some((boundary) => delimiterAt(raw, i, end, boundary) > 0)) return true
  }
  return false
}

/** The start of each delimiter line of `boundary` in raw[start, end), up to the closing one. */
function delimiters(raw: Uint8Array, start: number, end: number, boundary: Uint8Array) {
  const found: number[] = []
  for (let i = start; i < end - 1; i++) {
    if (i !== start && raw[i - 1] !== LF) continue
    const kind = delimiterAt(raw, i, end, boundary)
    if (kind > 0) found.push(i)
    // The parser forgets a boundary once it is closed: later lines like it are plain text.
    if (kind === 2) break
  }
  return found
}

function scanTree(
  raw: Uint8Array,
  start: number,
  end: number,
  digest: boolean,
  boundaries: Uint8Array[],
  tree: Tree,
  depth: number,
) {
  if (depth > MAX_SCAN_DEPTH) return void (tree.complete = false)
  const body = bodyStart(raw, start, end)
  if (body < 0) return void (tree.complete = false)
  const lines = headerLines(raw, start, body)
  const contentType = single(lines, 'content-type')
  const disposition = single(lines, 'content-disposition')
  const encoding = single(lines, 'content-transfer-encoding')
  if (contentType === null || disposition === null || encoding === null) {
    return void (tree.complete = false)
  }
  const type = contentType ? leadingToken(contentType) : digest ? 'message/rfc822' : 'text/plain'
  const dispositionToken = leadingToken(disposition)
  if (type === null || dispositionToken === null) return void (tree.complete = false)
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
      scanTree(raw, lineEnd + 1, found[i + 1], type === 'multipart/digest', inner, tree, depth + 1)
    }
    return
  }
  tree.leaves.push({
    headerStart: start,
    bodyStart: body,
    end,
    type,
    disposition: dispositionToken,
    transferEncoding: /^[\w-]*/.exec(encoding.toLowerCase())?.[0] ?? '',
    boundaries,
  })
}

function classify(raw: Uint8Array, tree: Tree, rfc822Depth: number, scan: Scan) {
  // A delivery or feedback report keeps the message it carries as an attachment.
  const report = tree.leaves.some(
    (leaf) => leaf.type === 'message/delivery-status' || leaf.type === 'message/feedback-report',
  )
  for (const leaf of tree.leaves) {
    const inlineMessage =
      leaf.type === 'message/rfc822' &&
      (leaf.disposition === '' || leaf.disposition === 'inline') &&
      !report &&
      rfc822Depth < MAX_RFC822_DEPTH
    if (inlineMessage) {
      // postal-mime parses an inline message of its own: its parts join this one's.
      if (!['', '7bit', '8bit', 'binary'].includes(leaf.transferEncoding)) scan.complete = false
      else {
        const nested: Tree = { leaves: [], complete: true }
        scanTree(raw, leaf.bodyStart, leaf.end, false, leaf.boundaries, nested, 0)
        scan.complete &&= nested.complete
        classify(raw, nested, rfc822Depth + 1, scan)
      }
      continue
    }
    const text =
      leaf.disposition !== 'attachment' && (leaf.type === 'text/plain' || leaf.type === 'text/html')
    const { headerStart: _, ...part } = leaf
    scan.parts.push({ ...part, role: text ? 'text' : 'attachment' })
  }
}

/** The text and attachment parts of `raw`, as postal-mime will list them. */
export function scanMessage(raw: Uint8Array): Scan {
  const tree: Tree = { leaves: [], complete: true }
  scanTree(raw, 0, raw.byteLength, false, [], tree, 0)
  const scan: Scan = { parts: [], complete: tree.complete }
  classify(raw, tree, 0, scan)
  return scan
}
