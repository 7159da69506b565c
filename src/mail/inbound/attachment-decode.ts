// Decodes an attachment part straight from the raw message, a window at a time, exactly as
// postal-mime's decoders would (base64-decoder.ts, qp-decoder.ts of postal-mime 4): the bytes,
// MD5 and SHA-256 of a huge attachment come out identical to the parser's, but the decoded
// attachment is never held whole. It is decoded twice: once to learn its size and digests
// (before the blob check), once more while it is written to R2.

import { toHex } from '../../lib/bytes'

const LF = 0x0a
const CR = 0x0d
const EQUALS = 0x3d

/** Encoded bytes decoded per step: small next to the 128 MB isolate, large enough to be quick. */
const WINDOW_BYTES = 256 * 1024

export type EncodedPart = {
  raw: Uint8Array
  start: number
  end: number
  /** 'identity': 7bit, 8bit, binary or any other encoding the parser passes through. */
  encoding: 'base64' | 'quoted-printable' | 'identity'
}

const IGNORED = -1
const PAD = -2
const SEXTETS = (() => {
  const table = new Int8Array(256).fill(IGNORED)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i
  table[EQUALS] = PAD
  return table
})()

/**
 * Base64 as postal-mime reads it: characters outside the alphabet are skipped, and '=' ends a
 * unit (some mailers pad every line): a unit's last 2 or 3 characters give 1 or 2 bytes, a
 * last single character none.
 */
function* base64Chunks({ raw, start, end }: EncodedPart): Generator<Uint8Array> {
  let quad = 0
  let count = 0
  for (let from = start; from < end; from += WINDOW_BYTES) {
    const to = Math.min(end, from + WINDOW_BYTES)
    const out = new Uint8Array(Math.floor(((to - from) * 3) / 4) + 3)
    let p = 0
    const flush = () => {
      if (count === 2) out[p++] = (quad >> 4) & 0xff
      if (count === 3) {
        out[p++] = (quad >> 10) & 0xff
        out[p++] = (quad >> 2) & 0xff
      }
      quad = 0
      count = 0
    }
    for (let i = from; i < to; i++) {
      const value = SEXTETS[raw[i]]
      if (value === IGNORED) continue
      if (value === PAD) {
        flush()
        continue
      }
      quad = (quad << 6) | value
      if (++count === 4) {
        out[p++] = quad >> 16
        out[p++] = (quad >> 8) & 0xff
        out[p++] = quad & 0xff
        quad = 0
        count = 0
      }
    }
    if (to === end) flush()
    if (p > 0) yield out.subarray(0, p)
  }
}

function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  return -1
}

/**
 * Quoted-printable as postal-mime reads it: line by line (trailing CRs dropped), '=XX' decoded
 * where both nibbles are hex, a line ending in '=' joined to the next, every other line ending
 * in LF. With `qp` false, what postal-mime's pass-through decoder makes of any other encoding:
 * each line without its trailing CRs, then LF.
 */
function* lineChunks({ raw, start, end }: EncodedPart, qp: boolean): Generator<Uint8Array> {
  let out = new Uint8Array(WINDOW_BYTES + 1)
  let p = 0
  for (let from = start; from < end;) {
    const lf = raw.indexOf(LF, from)
    const next = lf < 0 || lf >= end ? end : lf + 1
    let len = (lf < 0 || lf >= end ? end : lf) - from
    while (len > 0 && raw[from + len - 1] === CR) len--
    if (out.length - p < len + 1) {
      if (p > 0) yield out.subarray(0, p)
      out = new Uint8Array(Math.max(WINDOW_BYTES, len) + 1)
      p = 0
    }
    const softBreak = qp && len > 0 && raw[from + len - 1] === EQUALS
    if (softBreak) len--
    if (!qp) {
      out.set(raw.subarray(from, from + len), p)
      p += len
      len = 0
    }
    for (let i = from; i < from + len; i++) {
      const byte = raw[i]
      if (byte === EQUALS && i + 2 < from + len) {
        const high = hexNibble(raw[i + 1])
        const low = hexNibble(raw[i + 2])
        if (high >= 0 && low >= 0) {
          out[p++] = (high << 4) | low
          i += 2
          continue
        }
      }
      out[p++] = byte
    }
    if (!softBreak) out[p++] = LF
    from = next
  }
  if (p > 0) yield out.subarray(0, p)
}

/** The decoded bytes of `part`, a window at a time. */
export function decodedChunks(part: EncodedPart): Generator<Uint8Array> {
  if (part.encoding === 'base64') return base64Chunks(part)
  return lineChunks(part, part.encoding === 'quoted-printable')
}

/** Decoded size, MD5 and SHA-256 of `part`, without holding it decoded. */
export async function digestPart(
  part: EncodedPart,
): Promise<{ size: number; md5: string; sha256: string }> {
  const md5 = new crypto.DigestStream('MD5')
  const sha256 = new crypto.DigestStream('SHA-256')
  const writers = [md5.getWriter(), sha256.getWriter()]
  let size = 0
  for (const chunk of decodedChunks(part)) {
    size += chunk.byteLength
    await Promise.all(writers.map((writer) => writer.write(chunk)))
  }
  await Promise.all(writers.map((writer) => writer.close()))
  return { size, md5: toHex(await md5.digest), sha256: toHex(await sha256.digest) }
}
