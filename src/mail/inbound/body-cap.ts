// What the parser is given. postal-mime holds a text part several times over (its lines, a
// Blob of them, their bytes, the decoded string) and a base64 attachment about three times:
// a 25 MiB body grows the isolate by about seven times its size, an attachment by three,
// beyond the 128 MB a Worker gets. So the bytes the parser sees keep only the first
// MAX_PARSED_TEXT_PART_BYTES of text/plain body, and as much of text/html, over all the body
// parts of that type; and an attachment part larger than MAX_PARSED_ATTACHMENT_PART_BYTES, or
// any once MAX_PARSED_ATTACHMENT_BYTES of attachments were given to the parser, is replaced
// by a short marker the parser decodes into a placeholder attachment; parse.ts decodes the
// real part from the raw bytes itself, in chunks (attachment-decode.ts). Both are budgets
// over the whole message, since many parts each under a per-part size add up as much as one
// huge part. Every other byte passes unchanged and
// the stored raw message is never touched. Cuts follow the scan (mime-scan.ts), which only
// names parts it reads as the parser will; a body holding a delimiter is left whole.

import {
  MAX_PARSED_ATTACHMENT_BYTES,
  MAX_PARSED_ATTACHMENT_PART_BYTES,
  MAX_PARSED_TEXT_PART_BYTES,
} from '../../limits'
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
  // What the parser may still be given: text bytes per body type, attachment bytes in all.
  const textLeft = new Map([
    ['text/plain', MAX_PARSED_TEXT_PART_BYTES],
    ['text/html', MAX_PARSED_TEXT_PART_BYTES],
  ])
  let attachmentsLeft =
    attachmentPartBytes === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : (MAX_PARSED_ATTACHMENT_BYTES / MAX_PARSED_ATTACHMENT_PART_BYTES) * attachmentPartBytes
  // The marker names this parse, so no attachment that merely looks like one is taken for it.
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16))
  for (const part of scan.parts) {
    const { bodyStart, end, boundaries } = part
    const size = end - bodyStart
    if (part.role === 'text') {
      if (part.disposition !== '' && part.disposition !== 'inline') continue
      const left = textLeft.get(part.type) ?? 0
      // Counted as decoded: base64 carries 3 bytes in 4 characters.
      const weight = part.transferEncoding === 'base64' ? 0.75 : 1
      if (size * weight <= left) {
        textLeft.set(part.type, left - size * weight)
        continue
      }
      textLeft.set(part.type, 0)
      // Cut at a line end, so an encoded line (base64, quoted-printable) is kept whole or not;
      // a part past the budget keeps no body at all.
      const lineEnd =
        left > 0 ? raw.indexOf(LF, bodyStart + Math.ceil(left / weight)) : bodyStart - 1
      if (lineEnd < 0 || lineEnd + 1 >= end) continue
      if (holdsDelimiter(raw, lineEnd + 1, end, boundaries)) continue
      cuts.push({ start: lineEnd + 1, end })
      continue
    }
    // Calendar parts are re-encoded from their text by the parser: left to it.
    if (part.type === 'text/calendar' || part.type === 'application/ics') continue
    if (size <= attachmentPartBytes && size <= attachmentsLeft) {
      attachmentsLeft -= size
      continue
    }
    if (holdsDelimiter(raw, bodyStart, end, boundaries)) continue
    const transferEncoding = part.transferEncoding || '7bit'
    const encoding =
      transferEncoding === 'base64' || transferEncoding === 'quoted-printable'
        ? transferEncoding
        : 'identity'
    // A multiple of 3 characters: its base64 has no padding, and it holds no '=' for QP.
    const marker = `mailsac-edge-set-aside-${nonce.join('')}-${setAside.length}`.padEnd(60, 'x')
    const encoded = encoding === 'base64' ? btoa(marker) : marker
    cuts.push({ start: bodyStart, end, replacement: latin1(`${encoded}\r\n`) })
    setAside.push({ marker, part: { raw, start: bodyStart, end, encoding }, transferEncoding })
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
