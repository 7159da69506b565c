import { describe, expect, it } from 'vitest'
import { env } from 'cloudflare:workers'
import { parseMessage, type ParsedAttachment } from '../../../src/mail/inbound/parse'
import { putAttachmentBlob, attachmentKey } from '../../../src/mail/inbound/storage'
import { MAX_PARSED_ATTACHMENT_PART_BYTES } from '../../../src/limits'
import { call, ingest } from '../../requests'
import { sha256Hex } from '../../../src/lib/bytes'

const encoder = new TextEncoder()

/** Bytes every value appears in, so a decoder slip changes the digest. */
const FILE = Uint8Array.from({ length: 20_011 }, (_, i) => (i * 7919 + (i >> 8)) % 256)
function base64(bytes: Uint8Array) {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** Quoted-printable with soft breaks, escapes, a literal '=' that is no escape, and CRLF lines. */
const QP_BODY =
  'caf=C3=A9 line one=\r\ncontinued =3D equals, a lone = sign, =ZZ not hex\r\n' +
  'trailing spaces   \r\n'.repeat(50) +
  'last line=\r\n'

function message() {
  return encoder.encode(
    [
      'From: Sender <sender@example.org>',
      'To: inbox@example.com',
      'Subject: set aside',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: text/plain',
      '',
      'See the files.',
      '--outer',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Disposition: attachment; filename="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      base64(FILE).replace(/.{76}/g, '$&\r\n'),
      '--outer',
      // Padded per line, as some mailers do: '=' ends a unit.
      'Content-Type: image/png; name="padded.png"',
      'Content-ID: <logo@example.org>',
      'Content-Disposition: inline',
      'Content-Transfer-Encoding: BASE64',
      '',
      [FILE.subarray(0, 1000), FILE.subarray(1000, 2002), FILE.subarray(2002, 4001)]
        .map(base64)
        .join('\r\n'),
      '--outer',
      'Content-Type: text/csv; name="notes.csv"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      QP_BODY,
      '--outer',
      'Content-Type: application/pdf; name="plain.pdf"',
      'Content-Disposition: attachment; filename="plain.pdf"',
      '',
      'not encoded at all',
      '--outer--',
      '',
    ].join('\r\n'),
  )
}

const metadata = ({ bytes: _b, encoded: _e, ...rest }: ParsedAttachment) => rest

describe('huge attachment parts set aside from the parse (#14 item 2)', () => {
  it('gives set-aside attachments the metadata and digests of the parsed path', async () => {
    const raw = message()
    const parsed = await parseMessage(raw)
    const setAside = await parseMessage(raw, { attachmentPartBytes: 100 })
    expect(parsed.attachments.every((a) => a.encoded === null)).toBe(true)
    // The three encoded parts were decoded outside the parser; the 7bit one is left to it.
    expect(setAside.attachments.map((a) => a.encoded !== null)).toEqual([true, true, true, false])
    expect(setAside.attachments.map(metadata)).toEqual(parsed.attachments.map(metadata))
    expect(setAside.text).toBe(parsed.text)
    expect(parsed.attachments[0].size).toBe(FILE.byteLength)
  })

  it('sets aside unencoded parts too, with the bytes the parser’s pass-through would give', async () => {
    // 7bit, 8bit and binary parts: lines with trailing CRs, a bare CR inside a line, a bare LF
    // line end, an empty line and trailing spaces; the parser drops trailing CRs and ends each
    // line with LF.
    const lines = 'one\r\r\nbare\rcr inside\r\n\r\nlf only\nspaces   \r\n'.repeat(40) + 'last'
    const part = (type: string, encoding: string) =>
      [
        '--outer',
        `Content-Type: ${type}; name="f.${encoding}"`,
        'Content-Disposition: attachment',
        ...(encoding ? [`Content-Transfer-Encoding: ${encoding.toUpperCase()}`] : []),
        '',
        lines,
      ].join('\r\n')
    const raw = encoder.encode(
      [
        'From: a@example.org',
        'Content-Type: multipart/mixed; boundary="outer"',
        '',
        part('text/plain', '7bit'),
        part('application/octet-stream', '8bit'),
        part('application/octet-stream', 'binary'),
        part('text/csv', ''),
        '--outer--',
        '',
      ].join('\r\n'),
    )
    const parsed = await parseMessage(raw)
    const setAside = await parseMessage(raw, { attachmentPartBytes: 100 })
    expect(parsed.attachments.every((a) => a.encoded === null)).toBe(true)
    expect(setAside.attachments.map((a) => a.encoded?.encoding)).toEqual(Array(4).fill('identity'))
    expect(setAside.attachments.map(metadata)).toEqual(parsed.attachments.map(metadata))
    expect(setAside.attachments.map((a) => a.transferEncoding)).toEqual([
      '7bit',
      '8bit',
      'binary',
      '7bit',
    ])
    for (const [i, attachment] of setAside.attachments.entries()) {
      await putAttachmentBlob(env.MAIL, attachment)
      const stored = await env.MAIL.get(attachmentKey(attachment.md5))
      expect(new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())).toEqual(
        parsed.attachments[i].bytes,
      )
    }
  })

  it('sets aside every part past the budget of attachments given to the parser, whatever its size', async () => {
    // Twenty small parts, each under the per-part size (100 here); the budget of attachments
    // given to the parser is twice that.
    const small = (i: number) =>
      [
        '--outer',
        `Content-Type: application/octet-stream; name="s${i}.bin"`,
        'Content-Transfer-Encoding: base64',
        '',
        base64(FILE.subarray(i * 25, i * 25 + 25)),
      ].join('\r\n')
    const raw = encoder.encode(
      [
        'From: a@example.org',
        'Content-Type: multipart/mixed; boundary="outer"',
        '',
        ...Array.from({ length: 20 }, (_, i) => small(i)),
        '--outer--',
        '',
      ].join('\r\n'),
    )
    const parsed = await parseMessage(raw)
    const setAside = await parseMessage(raw, { attachmentPartBytes: 100 })
    const aside = setAside.attachments.map((a) => a.encoded !== null)
    // Each part's body is 38 encoded bytes with its CRLF: 5 fit 200 bytes, the rest go aside.
    expect(aside).toEqual([...Array(5).fill(false), ...Array(15).fill(true)])
    expect(setAside.attachments.map(metadata)).toEqual(parsed.attachments.map(metadata))
  })

  it('stores the decoded bytes of a set-aside part in R2, identical to the parsed ones', async () => {
    const raw = message()
    const parsed = await parseMessage(raw)
    const setAside = await parseMessage(raw, { attachmentPartBytes: 100 })
    for (const [i, attachment] of setAside.attachments.entries()) {
      await putAttachmentBlob(env.MAIL, attachment)
      const stored = await env.MAIL.get(attachmentKey(attachment.md5))
      const bytes = new Uint8Array(await (stored as R2ObjectBody).arrayBuffer())
      expect(bytes).toEqual(parsed.attachments[i].bytes)
      expect(stored?.customMetadata?.sha256).toBe(parsed.attachments[i].sha256)
    }
  })

  it('records each attachment part’s transfer encoding, 7bit when absent (#16 item 7)', async () => {
    for (const threshold of [undefined, 100]) {
      const parsed = await parseMessage(message(), { attachmentPartBytes: threshold })
      expect(parsed.attachments.map((a) => a.transferEncoding)).toEqual([
        'base64',
        'base64',
        'quoted-printable',
        '7bit',
      ])
    }
  })

  it('ingests a message with an attachment beyond the parser’s limit: same bytes out, raw whole', async () => {
    const big = Uint8Array.from(
      { length: Math.ceil(MAX_PARSED_ATTACHMENT_PART_BYTES * 0.9) },
      (_, i) => (i * 2654435761) >>> 24,
    )
    const raw = encoder.encode(
      [
        'From: Sender <sender@example.org>',
        'To: big-file@example.com',
        'Subject: big file',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Attached.',
        '--b',
        'Content-Type: application/zip; name="big.zip"',
        'Content-Disposition: attachment; filename="big.zip"',
        'Content-Transfer-Encoding: base64',
        '',
        base64(big).replace(/.{76}/g, '$&\r\n'),
        '--b--',
        '',
      ].join('\r\n'),
    )
    expect(raw.byteLength).toBeGreaterThan(MAX_PARSED_ATTACHMENT_PART_BYTES)
    const [{ _id }] = await ingest(raw, ['big-file@example.com'])
    const base = `/api/addresses/big-file@example.com/messages/${_id}`
    const [meta] = await (
      await call(`${base}/attachments`)
    ).json<{ checksum: string; length: number; transferEncoding: string }[]>()
    const md5 = [...new Uint8Array(await crypto.subtle.digest('MD5', big))]
    expect(meta).toMatchObject({
      checksum: md5.map((b) => b.toString(16).padStart(2, '0')).join(''),
      length: big.byteLength,
      transferEncoding: 'base64',
    })
    const file = await call(`${base}/attachments/${meta.checksum}`)
    // Compared by digest: a deep equality of megabytes is slow in vitest.
    expect(await sha256Hex(new Uint8Array(await file.arrayBuffer()))).toBe(await sha256Hex(big))
    const stored = await call(`/api/raw/big-file@example.com/${_id}`)
    expect(await sha256Hex(new Uint8Array(await stored.arrayBuffer()))).toBe(await sha256Hex(raw))
  }, 60_000)
})
