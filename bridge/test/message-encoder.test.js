import { describe, expect, it } from 'vitest'
import { MessageEncoder, pop3Octets } from '../src/pop3/message-encoder.js'

/**
 * Feeds `input` in pieces of `size` bytes and returns everything the encoder produced.
 * @param {string} input
 * @param {number} size
 * @param {{ bodyLines?: number }} [options]
 */
function encode(input, size, options) {
  const encoder = new MessageEncoder(options)
  const bytes = Buffer.from(input, 'latin1')
  const out = []
  for (let i = 0; i < bytes.length && !encoder.done; i += size) {
    out.push(encoder.encode(bytes.subarray(i, i + size)))
  }
  out.push(encoder.finish())
  return Buffer.concat(out).toString('latin1')
}

const RAW = 'Subject: x\n\r\n.a\r\n..b\n.\r\nc\rd\r\n\r\n.'

describe('MessageEncoder', () => {
  it('gives the same output whatever the chunk boundaries, including CR|LF and line|dot splits', () => {
    const expected = 'Subject: x\r\n\r\n..a\r\n...b\r\n..\r\nc\rd\r\n\r\n..\r\n'
    for (const size of [1, 2, 3, 5, 7, 1000]) {
      expect(encode(RAW, size)).toBe(expected)
    }
  })

  it('stops TOP after the headers, the blank line and n body lines, across chunks', () => {
    const message = 'A: 1\r\nB: 2\n\nl1\r\n.l2\nl3\r\n'
    for (const size of [1, 4, 100]) {
      expect(encode(message, size, { bodyLines: 0 })).toBe('A: 1\r\nB: 2\r\n\r\n')
      expect(encode(message, size, { bodyLines: 2 })).toBe('A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n')
      expect(encode(message, size, { bodyLines: 9 })).toBe(
        'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n',
      )
    }
  })

  it('sends every header of a message without a body', () => {
    expect(encode('A: 1\r\nB: 2', 3, { bodyLines: 5 })).toBe('A: 1\r\nB: 2\r\n')
  })

  it('completes a final CR into CRLF so the terminator stands alone', () => {
    expect(encode('x\r', 1)).toBe('x\r\n')
  })
})

describe('pop3Octets (the size LIST and STAT announce)', () => {
  it('counts what RETR sends before dot-stuffing: bare LFs as CRLF, CRLF and lone CR as they are', () => {
    const raw = 'Subject: x\n\n.a\r\nb\rc\n'
    const sent = encode(raw, 3)
      .replace(/^\./, '')
      .replace(/\r\n\./g, '\r\n')
    expect(pop3Octets(Buffer.from(raw, 'latin1'))).toBe(Buffer.byteLength(sent, 'latin1'))
    expect(pop3Octets(Buffer.from('a\r\nb\r\n'))).toBe(6)
  })
})
