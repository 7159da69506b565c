import { describe, expect, it } from 'vitest'
import { parserInput } from '../../../src/mail/inbound/body-cap'
import { parseMessage } from '../../../src/mail/inbound/parse'
import { MAX_PARSED_TEXT_PART_BYTES, MAX_STORED_BODY_CHARS } from '../../../src/limits'
import { call, ingest, json } from '../../requests'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Prose lines of 80 characters up to `bytes`, each ending CRLF. */
function filler(
  bytes: number,
  line = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor',
) {
  const padded = line.padEnd(78, '.') + '\r\n'
  return padded.repeat(Math.ceil(bytes / padded.length))
}

const ATTACHMENT_BYTES = Uint8Array.from({ length: 30_000 }, (_, i) => (i * 7919) % 256)
const ATTACHMENT = btoa(String.fromCharCode(...ATTACHMENT_BYTES)).replace(/.{76}/g, '$&\r\n')

/**
 * A multipart/alternative message whose text and HTML bodies are 3 MiB each (beyond
 * MAX_PARSED_TEXT_PART_BYTES), a link and a code at their start, then a text attachment.
 */
function hugeMessage(to: string) {
  const text =
    'Your code is 493817. Confirm at https://example.com/verify?t=abc\r\n' + filler(3 * 1024 * 1024)
  const html =
    '<p>Your code is 493817. <a href="https://example.com/confirm?t=html">Verify my email</a></p>\r\n' +
    filler(3 * 1024 * 1024, '<p>lorem ipsum dolor sit amet consectetur adipiscing elit sed do</p>')
  return encoder.encode(
    [
      'From: Sender <sender@example.org>',
      `To: ${to}`,
      'Subject: Huge bodies',
      `Message-ID: <${crypto.randomUUID()}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      '',
      html,
      '--alt--',
      '--outer',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Disposition: attachment; filename="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      ATTACHMENT,
      '--outer--',
      '',
    ].join('\r\n'),
  )
}

async function md5(bytes: Uint8Array) {
  const digest = await crypto.subtle.digest('MD5', bytes)
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

describe('ingest of huge text and HTML bodies (#14 item 2)', () => {
  it('keeps the first MAX_STORED_BODY_CHARS of each body, says so, and keeps the raw whole', async () => {
    const inbox = 'huge-bodies@example.com'
    const raw = hugeMessage(inbox)
    const [{ _id: id }] = await ingest(raw, [inbox])

    const message = await json(`/api/addresses/${inbox}/messages/${id}`)
    expect(message.truncated).toBe(true)
    expect(message.text.length).toBe(MAX_STORED_BODY_CHARS)
    expect(message.text.startsWith('Your code is 493817.')).toBe(true)
    expect(message.html.length).toBe(MAX_STORED_BODY_CHARS)
    expect(message.body.length).toBeGreaterThan(0)
    expect(message.body.length).toBeLessThanOrEqual(MAX_STORED_BODY_CHARS)
    expect(message.links).toEqual(
      expect.arrayContaining([
        'https://example.com/verify?t=abc',
        'https://example.com/confirm?t=html',
      ]),
    )
    const latest = await json(`/api/addresses/${inbox}/latest`)
    expect(latest.codes).toContain('493817')
    // The attachment after the cut bodies is parsed whole.
    expect(message.attachments).toEqual([await md5(ATTACHMENT_BYTES)])

    const text = await call(`/api/text/${inbox}/${id}`)
    expect((await text.text()).length).toBe(MAX_STORED_BODY_CHARS)
    const stored = await call(`/api/raw/${inbox}/${id}`)
    // Compared by digest: a deep equality of 6 MB takes vitest most of a minute.
    const served = new Uint8Array(await stored.arrayBuffer())
    expect(served.byteLength).toBe(raw.byteLength)
    expect(await md5(served)).toBe(await md5(raw))
  })

  it('caps a single-part text/plain message too', async () => {
    const inbox = 'huge-plain@example.com'
    const raw = encoder.encode(
      `From: a@example.org\r\nTo: ${inbox}\r\nSubject: plain\r\n\r\n${filler(5 * 1024 * 1024)}`,
    )
    const [{ _id: id }] = await ingest(raw, [inbox])
    const message = await json(`/api/addresses/${inbox}/messages/${id}`)
    expect(message.truncated).toBe(true)
    expect(message.text.length).toBe(MAX_STORED_BODY_CHARS)
    expect(message.size).toBe(raw.byteLength)
  })

  it('answers truncated: false for a message kept whole', async () => {
    const inbox = 'small-bodies@example.com'
    const [{ _id: id }] = await ingest(
      `From: a@example.org\r\nTo: ${inbox}\r\nSubject: small\r\n\r\nHello\r\n`,
      [inbox],
    )
    const message = await json(`/api/addresses/${inbox}/messages/${id}`)
    expect(message.truncated).toBe(false)
    expect(message.text).toBe('Hello\n')
  })
})

describe('parserInput', () => {
  it('hands the parser the raw bytes themselves when no text part is too large', () => {
    const raw = encoder.encode('Subject: x\r\n\r\nHello\r\n')
    expect(parserInput(raw)).toMatchObject({ bytes: raw, cut: false, setAside: [] })
    expect(parserInput(raw).bytes).toBe(raw)
  })

  it('cuts a large text part at a line end before the next delimiter, and nothing else', () => {
    const raw = hugeMessage('x@example.com')
    const { bytes, cut } = parserInput(raw)
    expect(cut).toBe(true)
    const kept = decoder.decode(bytes)
    expect(bytes.byteLength).toBeLessThan(2 * MAX_PARSED_TEXT_PART_BYTES + 64 * 1024)
    expect(kept).toContain(`\r\n--alt\r\nContent-Type: text/html`)
    expect(kept).toContain(`\r\n--alt--\r\n--outer\r\n`)
    expect(kept.endsWith(`\r\n\r\n${ATTACHMENT}\r\n--outer--\r\n`)).toBe(true)
  })

  it('never cuts a text part that is an attachment: a large one is set aside whole', () => {
    const body = filler(MAX_PARSED_TEXT_PART_BYTES + 100_000)
    const raw = encoder.encode(
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n' +
        `Content-Disposition: attachment; filename="big.txt"\r\n\r\n${body}\r\n--b--\r\n`,
    )
    const input = parserInput(raw)
    expect(input.cut).toBe(false)
    expect(input.setAside).toHaveLength(1)
    const { part } = input.setAside[0]
    // The whole body, with the line end before the closing delimiter, as the parser reads it.
    expect(part).toMatchObject({ encoding: 'identity', start: decoder.decode(raw).indexOf(body) })
    expect(part.end - part.start).toBe(body.length + 2)
  })

  it('counts a base64 body as decoded, so it still fills the stored text', async () => {
    const text = filler(MAX_STORED_BODY_CHARS * 1.2)
    const encoded = btoa(text).replace(/.{76}/g, '$&\r\n')
    expect(encoded.length).toBeGreaterThan(MAX_PARSED_TEXT_PART_BYTES)
    const raw = encoder.encode(
      `Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${encoded}\r\n`,
    )
    const parsed = await parseMessage(raw)
    expect(parsed.text.length).toBe(MAX_STORED_BODY_CHARS)
    expect(parsed.text).toBe(text.slice(0, MAX_STORED_BODY_CHARS))
  })

  it('keeps one budget of text per body type over all parts, not one per part', () => {
    // Three text/plain parts of 60% of the budget each, and one text/html part of 60%.
    const share = Math.floor(MAX_PARSED_TEXT_PART_BYTES * 0.6)
    const part = (type: string, mark: string) =>
      `--b\r\nContent-Type: ${type}\r\n\r\n${mark}\r\n${filler(share)}`
    const raw = encoder.encode(
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n' +
        part('text/plain', 'FIRST') +
        part('text/html', 'HTML') +
        part('text/plain', 'SECOND') +
        part('text/plain', 'THIRD') +
        '--b--\r\n',
    )
    const { bytes, cut } = parserInput(raw)
    expect(cut).toBe(true)
    const kept = decoder.decode(bytes)
    // The first and the html part whole, the second cut, the third without a body at all.
    expect(kept).toContain('FIRST')
    expect(kept).toContain('HTML')
    expect(kept).toContain('SECOND')
    expect(kept).not.toContain('THIRD')
    expect(kept).toContain('--b\r\nContent-Type: text/plain\r\n\r\n--b--\r\n')
    // Bodies kept: 2 MiB of text/plain (the first whole, the second cut) and the html whole.
    expect(bytes.byteLength).toBeLessThan(MAX_PARSED_TEXT_PART_BYTES + share + 1024)
    expect(bytes.byteLength).toBeGreaterThan(MAX_PARSED_TEXT_PART_BYTES + share - 1024)
  })

  it('leaves a part whole when its headers are ambiguous (two Content-Types)', () => {
    const body = filler(MAX_PARSED_TEXT_PART_BYTES + 100_000)
    const raw = encoder.encode(
      `Content-Type: text/plain\r\nContent-Type: application/pdf\r\n\r\n${body}`,
    )
    expect(parserInput(raw).cut).toBe(false)
  })
})
