// What the parser is given. postal-mime holds a text part several times over (its lines, a
// Blob of them, their bytes, the decoded string) and a base64 attachment about three times:
// a 25 MiB body grows the isolate by about seven times its size, an attachment by three,
// beyond the 128 MB a Worker gets. So the bytes the parser sees keep only the first
// MAX_PARSED_TEXT_PART_BYTES of each text/plain or text/html body part, and an encoded
// attachment part larger than MAX_PARSED_ATTACHMENT_PART_BYTES is replaced by a short marker
// the parser decodes into a placeholder attachment; parse.ts decodes the real part from the
// raw bytes itself, in chunks (attachment-decode.ts). Every other byte passes unchanged and
// the stored raw message is never touched. Cuts follow the scan (mime-scan.ts), which only
// names parts it reads as the parser will; a body holding a delimiter is left whole.

import { MAX_PARSED_ATTACHMENT_PART_BYTES, MAX_PARSED_TEXT_PART_BYTES } from '../../limits'
import type { EncodedPart } from './attachment-decode'
import { holdsDelimiter, scanMessage, type Scan } from './mime-scan'

const LF = 0x0a

/** An attachment part the parser sees as `marker`; decoded from `part` instead. */
export type SetAside = { marker: string; part: EncodedPart; transferEncoding: string }

/** A byte range of the raw message replaced (by nothing, or a marker) in the parser's input. */
type Cut = { start: number; end: number; replacement?: Uint8Array }

export type ParserInput = {
  bytes: Uint8Array
  /** Whether a text body was shortened. */
  cut: boolean
  setAside: SetAside[]
  scan: Scan
}

const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0))

/**
 * The bytes the parser is given: `raw` itself when nothing needs cutting, else a copy without
 * the rest of each huge text part and with each huge encoded attachment part set aside.
 * `attachmentPartBytes` lowers the threshold for tests.
 */
export function parserInput(
  raw: Uint8Array,
  attachmentPartBytes = MAX_PARSED_ATTACHMENT_PART_BYTES,
): ParserInput {
  const scan = scanMessage(raw)
  const cuts: Cut[] = []
  const setAside: SetAside[] = []
  // The marker names this parse, so no attachment that merely looks like one is taken for it.
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16))
  for (const part of scan.parts) {
    const { bodyStart, end, boundaries } = part
    if (part.role === 'text') {
      if (part.disposition !== '' && part.disposition !== 'inline') continue
      if (end - bodyStart <= MAX_PARSED_TEXT_PART_BYTES) continue
      // Cut at a line end, so an encoded line (base64, quoted-printable) is kept whole or not.
      const lineEnd = raw.indexOf(LF, bodyStart + MAX_PARSED_TEXT_PART_BYTES)
      if (lineEnd < 0 || lineEnd + 1 >= end) continue
      if (holdsDelimiter(raw, lineEnd + 1, end, boundaries)) continue
      cuts.push({ start: lineEnd + 1, end })
      continue
    }
    const encoding = part.transferEncoding
    if (encoding !== 'base64' && encoding !== 'quoted-printable') continue
    // Calendar parts are re-encoded from their text by the parser: left to it.
    if (part.type === 'text/calendar' || part.type === 'application/ics') continue
    if (end - bodyStart <= attachmentPartBytes) continue
    if (holdsDelimiter(raw, bodyStart, end, boundaries)) continue
    // A multiple of 3 characters: its base64 has no padding, and it holds no '=' for QP.
    const marker = `mailsac-edge-set-aside-${nonce.join('')}-${setAside.length}`.padEnd(60, 'x')
    const encoded = encoding === 'base64' ? btoa(marker) : marker
    cuts.push({ start: bodyStart, end, replacement: latin1(`${encoded}\r\n`) })
    setAside.push({
      marker,
      part: { raw, start: bodyStart, end, encoding },
      transferEncoding: encoding,
    })
  }
  const cut = cuts.some((c) => !c.replacement)
  if (cuts.length === 0) return { bytes: raw, cut, setAside, scan }
  cuts.sort((a, b) => a.start - b.start)
  const kept = cuts.reduce(
    (size, c) => size - (c.end - c.start) + (c.replacement?.byteLength ?? 0),
    raw.byteLength,
  )
  const bytes = new Uint8Array(kept)
  let from = 0
  let to = 0
  for (const c of cuts) {
    bytes.set(raw.subarray(from, c.start), to)
    to += c.start - from
    if (c.replacement) bytes.set(c.replacement, to)
    to += c.replacement?.byteLength ?? 0
    from = c.end
  }
  bytes.set(raw.subarray(from), to)
  return { bytes, cut, setAside, scan }
}
