import { describe, expect, it } from 'vitest'
import { parseMessage } from '../../../src/mail/inbound/parse'
import fixture from '../../fixtures/inline-and-attachment.eml?raw'
import { latin1 } from '../../requests'

describe('parseMessage', () => {
  it('reads senders, recipients, subject and the ordered header list', async () => {
    const parsed = await parseMessage(
      new TextEncoder().encode(
        'From: "Bob B." <bob@example.org>\r\nTo: a@x.com, Team: c@x.com, d@x.com;\r\nCc: e@x.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nX-Two: 1\r\nX-Two: 2\r\n\r\nbody\r\n',
      ),
    )
    expect(parsed.from).toEqual([{ name: 'Bob B.', address: 'bob@example.org' }])
    expect(parsed.to.map((r) => r.address)).toEqual(['a@x.com', 'c@x.com', 'd@x.com'])
    expect(parsed.cc).toEqual([{ name: '', address: 'e@x.com' }])
    expect(parsed.subject).toBe('café')
    expect(parsed.headers.filter(([name]) => name === 'x-two').map(([, v]) => v)).toEqual([
      '1',
      '2',
    ])
    expect(parsed.text.trim()).toBe('body')
  })

  it('decodes 8-bit parts by their declared charset, not as UTF-8', async () => {
    const raw = latin1(
      'From: a@x.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9\r\n',
    )
    expect((await parseMessage(raw)).text.trim()).toBe('café')
  })

  it('gives each attachment its bytes, MD5 and SHA-256', async () => {
    const parsed = await parseMessage(new TextEncoder().encode(fixture))
    expect(parsed.attachments.length).toBeGreaterThan(0)
    for (const attachment of parsed.attachments) {
      const md5 = [
        ...new Uint8Array(await crypto.subtle.digest('MD5', attachment.bytes as Uint8Array)),
      ]
      expect(attachment.md5).toBe(md5.map((b) => b.toString(16).padStart(2, '0')).join(''))
      expect(attachment.sha256).toMatch(/^[0-9a-f]{64}$/)
    }
  })
})
