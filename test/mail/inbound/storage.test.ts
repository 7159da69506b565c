import { describe, expect, it } from 'vitest'
import { buildPack } from '../../../src/mail/inbound/storage'
import { crlfOctets } from '../../../src/mail/inbound/prepare'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('buildPack', () => {
  it('lays out each raw message and its parsed bodies back to back, at the recorded slots', async () => {
    const parts = [
      { raw: bytes('raw one\r\n'), content: { text: 'one', html: '', body: '' } },
      {
        raw: bytes('raw two, longer\r\n'),
        content: { text: 'two', html: '<p>2</p>', body: '<p>2</p>' },
      },
    ]
    const { chunks, length, slots } = buildPack(parts)
    const pack = new Uint8Array(await new Blob(chunks).arrayBuffer())
    expect(pack.byteLength).toBe(length)
    // The raw bytes go to R2 as they are, never copied into a pack-sized buffer (#14 item 2).
    expect(chunks[0]).toBe(parts[0].raw)
    expect(chunks[2]).toBe(parts[1].raw)
    parts.forEach((part, i) => {
      const slot = slots[i]
      expect(pack.slice(slot.rawOffset, slot.rawOffset + part.raw.byteLength)).toEqual(part.raw)
      const content = pack.slice(slot.contentOffset, slot.contentOffset + slot.contentLength)
      expect(JSON.parse(new TextDecoder().decode(content))).toEqual(part.content)
    })
    const last = slots[slots.length - 1]
    expect(pack.byteLength).toBe(last.contentOffset + last.contentLength)
  })
})

describe('crlfOctets', () => {
  it('counts each bare LF as CRLF, as POP3 sends it', () => {
    expect(crlfOctets(bytes('a\r\nb\r\n'))).toBe(6)
    expect(crlfOctets(bytes('a\nb\n'))).toBe(6)
    expect(crlfOctets(bytes('\na\r\n\n'))).toBe(7)
  })
})
