import { describe, expect, it, vi } from 'vitest'
import { buildPack, putPack, WRITE_SLICE_BYTES } from '../../../src/mail/inbound/storage'
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

describe('putPack', () => {
  it('hands R2 a large raw message in slices, never whole, and every byte arrives in order', async () => {
    // The runtime copies each write before it goes out: a 25 MiB message written whole was
    // held twice until R2 had it (bench/memory.mjs: 139 MB for one attachment, 115 MB sliced).
    const raw = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) & 0xff)
    const pack = buildPack([{ raw, content: { text: 't', html: '', body: '' } }])
    // What putPack writes into the stream R2 reads, write by write.
    const sizes: number[] = []
    const Native = FixedLengthStream
    vi.stubGlobal(
      'FixedLengthStream',
      class {
        readable: ReadableStream
        writable: WritableStream
        constructor(length: number) {
          const inner = new Native(length)
          const writer = inner.writable.getWriter()
          this.readable = inner.readable
          this.writable = new WritableStream<Uint8Array>({
            write: (chunk) => (sizes.push(chunk.byteLength), writer.write(chunk)),
            close: () => writer.close(),
            abort: (reason) => writer.abort(reason),
          })
        }
      },
    )
    let stored: Uint8Array | null = null
    const bucket = {
      async put(_key: string, body: ReadableStream<Uint8Array>) {
        const chunks: Uint8Array[] = []
        for await (const chunk of body) chunks.push(chunk.slice())
        stored = new Uint8Array(await new Blob(chunks).arrayBuffer())
        return null
      },
    } as unknown as R2Bucket
    await putPack(bucket, 'packs/x', pack).finally(() => vi.unstubAllGlobals())
    expect(sizes.length).toBeGreaterThan(raw.byteLength / WRITE_SLICE_BYTES)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(WRITE_SLICE_BYTES)
    expect(stored!.byteLength).toBe(pack.length)
    const digest = async (data: Uint8Array) =>
      new Uint8Array(await crypto.subtle.digest('SHA-256', data))
    expect(await digest(stored!.subarray(0, raw.byteLength))).toEqual(await digest(raw))
  })
})

describe('crlfOctets', () => {
  it('counts each bare LF as CRLF, as POP3 sends it', () => {
    expect(crlfOctets(bytes('a\r\nb\r\n'))).toBe(6)
    expect(crlfOctets(bytes('a\nb\n'))).toBe(6)
    expect(crlfOctets(bytes('\na\r\n\n'))).toBe(7)
  })
})
