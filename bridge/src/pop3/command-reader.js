/** Marks a line that overflowed the limit, so it is answered in order with the rest. */
export const LINE_TOO_LONG = Symbol('line too long')

/** @typedef {string | typeof LINE_TOO_LONG} CommandLine */

/**
 * Splits a POP3 client's bytes into command lines (CRLF, or a bare LF from sloppy clients).
 * A line longer than `maxLineBytes` becomes one LINE_TOO_LONG and its bytes are dropped as
 * they come, so a client that never sends a newline cannot grow memory.
 */
export class CommandReader {
  /** @param {number} maxLineBytes */
  constructor(maxLineBytes) {
    this.maxLineBytes = maxLineBytes
    this.pending = Buffer.alloc(0)
    this.discardingLongLine = false
  }

  /**
   * @param {Buffer} chunk
   * @returns {CommandLine[]} the lines this chunk completed
   */
  push(chunk) {
    /** @type {CommandLine[]} */
    const lines = []
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    let lineStart = 0
    let newline
    while ((newline = data.indexOf(0x0a, lineStart)) !== -1) {
      if (this.discardingLongLine) {
        this.discardingLongLine = false
      } else if (newline - lineStart > this.maxLineBytes) {
        lines.push(LINE_TOO_LONG)
      } else {
        let end = newline
        if (end > lineStart && data[end - 1] === 0x0d) end--
        lines.push(data.toString('utf8', lineStart, end))
      }
      lineStart = newline + 1
    }
    data = data.subarray(lineStart)
    if (data.length > this.maxLineBytes) {
      if (!this.discardingLongLine) lines.push(LINE_TOO_LONG)
      this.discardingLongLine = true
      data = Buffer.alloc(0)
    }
    // Copy so a small remainder doesn't pin the socket's whole 64 KB read buffer.
    this.pending = data.length ? Buffer.from(data) : Buffer.alloc(0)
    return lines
  }

  /** Forgets a partial line (STLS: nothing sent in plaintext may run inside TLS). */
  reset() {
    this.pending = Buffer.alloc(0)
    this.discardingLongLine = false
  }
}
