import { describe, expect, it } from 'vitest'
import { receivedHeader } from '../../bridge/src/smtp/trace.js'
import { receivingHop } from '../../src/mail/received-hop'
import { ingest, json } from '../requests'

// Issue #16 item 1: `via` and `rtls` from the Received header of the receiving hop.

const header = (raw: string): [string, string] => {
  const [name, ...value] = raw.replace(/\r\n$/, '').split(': ')
  return [name.toLowerCase(), value.join(': ').replace(/\r\n\t/g, ' ')]
}

const bridgeHeader = (protocol: 'SMTP' | 'ESMTP' | 'ESMTPS') =>
  header(
    receivedHeader({
      helo: 'client.example',
      ip: '192.0.2.7',
      by: 'mx.bridge.example',
      protocol,
      id: 'abc',
      recipients: ['jeff@example.com'],
      date: new Date('2026-11-24T10:00:00Z'),
    }),
  )

describe('receivingHop (issue #16 item 1)', () => {
  it('reads the bridge’s header: TLS when it says ESMTPS, plain when ESMTP', () => {
    expect(receivingHop([bridgeHeader('ESMTPS')])).toEqual({ via: 'mx.bridge.example', rtls: true })
    expect(receivingHop([bridgeHeader('ESMTP')])).toEqual({ via: 'mx.bridge.example', rtls: false })
  })

  it('reads Email Routing’s header, and only the topmost one', () => {
    const routing: [string, string] = [
      'received',
      'from mail-wm1-f41.google.com (mail-wm1-f41.google.com [209.85.128.41]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by mx.cloudflare.net (Postfix) with ESMTPS id 4Xy; Tue, 24 Nov 2026 10:00:00 +0000',
    ]
    const earlier: [string, string] = ['received', 'from a by b.example with SMTP id 1; date']
    expect(receivingHop([routing, earlier])).toEqual({ via: 'mx.cloudflare.net', rtls: true })
  })

  it('answers null when no Received header tells', () => {
    expect(receivingHop([['subject', 'hi']])).toEqual({ via: null, rtls: null })
    expect(receivingHop([['received', 'from somewhere; date']])).toEqual({ via: null, rtls: null })
  })
})

describe('via and rtls on message objects (issue #16 item 1)', () => {
  it('answers them in the list and the single message, spam always null', async () => {
    const raw = [
      'Received: from client.example ([192.0.2.7])',
      '\tby mx.bridge.example (mailsac-edge-bridge)',
      '\twith ESMTPS id abc;',
      '\tTue, 24 Nov 2026 10:00:00 +0000',
      'From: a@example.org',
      'To: hop@example.com',
      'Subject: hop',
      '',
      'hi',
      '',
    ].join('\r\n')
    const [stored] = await ingest(raw, ['hop@example.com'])
    const [listed] = await json('/api/addresses/hop@example.com/messages')
    const single = await json(`/api/addresses/hop@example.com/messages/${stored._id}`)
    for (const message of [listed, single]) {
      expect(message).toMatchObject({ via: 'mx.bridge.example', rtls: true, spam: null })
    }
  })
})
