const CR = 0x0d
const LF = 0x0a
const DOT = 0x2e
const CRLF = Buffer.from('\r\n')
const DOT_BUFFER = Buffer.from('.')
const EMPTY = Buffer.alloc(0)

/**
 * Turns raw message bytes into a POP3 multi-line payload (RFC 1939 section 3): every line ends
 * in CRLF and a line starting with "." gets a second one. Works chunk by chunk, keeping its
 * position in the line across chunk boundaries, so a message is never held in memory whole.
 *
 * With `bodyLines` it also stops after the header block, the blank line and that many body lines,
 * which is what TOP sends (RFC 1939 section 7).
 */
export class MessageEncoder {
  /** @param {{ bodyLines?: number }} [options] */
  constructor({ bodyLines = Infinity } = {}) {
    this.bodyLinesLeft = bodyLines
    this.inHeaders = true
    this.lineStart = true
    /** the previous byte was CR, possibly in the previous chunk */
    this.prevCR = false
    /** bytes on the current line so far, to recognise the blank line ending the headers */
    this.lineLength = 0
    /** TOP has sent all it should; further input is ignored */
    this.done = false
  }

  /**
   * @param {Uint8Array} input
   * @returns {Buffer} bytes to send, possibly empty
   */
  encode(input) {
    if (this.done || input.length === 0) return EMPTY
    const chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    /** @type {Buffer[]} */
    const out = []
    let segmentStart = 0
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]
      if (byte === LF) {
        if (!this.prevCR) {
          // Bare LF (mail stored by Unix tools): POP3 requires CRLF.
          out.push(chunk.subarray(segmentStart, i), CRLF)
          segmentStart = i + 1
        }
        const blank = this.lineLength === (this.prevCR ? 1 : 0)
        this.lineStart = true
        this.prevCR = false
        this.lineLength = 0
        if (this.inHeaders) {
          if (blank) this.inHeaders = false
        } else {
          this.bodyLinesLeft--
        }
        if (!this.inHeaders && this.bodyLinesLeft <= 0) {
          this.done = true
          out.push(chunk.subarray(segmentStart, i + 1))
          return Buffer.concat(out)
        }
        continue
      }
      if (byte === DOT && this.lineStart) {
        // Dot-stuffing: the client strips one leading dot, so "." alone can't end the message.
        out.push(chunk.subarray(segmentStart, i), DOT_BUFFER)
        segmentStart = i
      }
      this.lineStart = false
      this.prevCR = byte === CR
      this.lineLength++
    }
    if (out.length === 0) return chunk
    out.push(chunk.subarray(segmentStart))
    return Buffer.concat(out)
  }

  /**
   * Completes a last line that had no line ending, so the terminating "." stands on its own line.
   * @returns {Buffer}
   */
  finish() {
    if (this.done || this.lineStart) return EMPTY
    return this.prevCR ? Buffer.from('\n') : CRLF
  }
}

/**
 * The octets RETR sends for these raw bytes, as LIST and STAT must announce them (RFC 1939
 * section 5): every bare LF becomes CRLF; dot-stuffing, and the CRLF that completes an
 * unterminated last line before the ".", are framing and do not count (Dovecot counts alike).
 * For the Worker, which holds the bytes, to list as `crlfSize`.
 * @param {Uint8Array} raw
 * @returns {number}
 */
export function pop3Octets(raw) {
  let octets = raw.length
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === LF && (i === 0 || raw[i - 1] !== CR)) octets++
  }
  return octets
}
