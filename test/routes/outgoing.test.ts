import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { DIARY_PDF, LOGO_PNG, md5 } from '../fixture-bytes'
import { ADMIN, call, createAccount, json } from '../requests'

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

let domainCounter = 0

/** An account with `sends` credits and a domain it is verified to send from. */
async function sender(sends = 10) {
  const account = await createAccount({ sendsRemaining: sends })
  const domain = `send${++domainCounter}-${account.id}.test`
  await json('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain, account: account.id }),
  })
  await json(`/internal/admin/domains/${domain}/sending`, {
    method: 'PUT',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ verified: true }),
  })
  return { ...account, domain, address: `app@${domain}` }
}

function send(key: string, body: Record<string, unknown>): Promise<Response> {
  return call('/api/outgoing-messages', {
    method: 'POST',
    headers: { 'Mailsac-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
}

async function sent(key: string, body: Record<string, unknown>) {
  const response = await send(key, body)
  const text = await response.text()
  expect(response.status, text).toBe(200)
  return JSON.parse(text)
}

async function sendsRemaining(apiKey: string): Promise<number> {
  return (await json('/api/me', { headers: { 'Mailsac-Key': apiKey } })).sendsRemaining
}

const inbox = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}@inbox.test`

describe('POST /api/outgoing-messages', () => {
  it('delivers every field of the documented example to a local inbox', async () => {
    const me = await sender()
    const to = inbox('someone')
    const cid = 'F3011FGE@hsd1.ca.comcast.net.'
    const result = await sent(me.apiKey, {
      to,
      from: { address: me.address, name: 'Sender Name' },
      subject: 'Hey ✓',
      text: 'Message text body [2561a.jpg]',
      html: `<div>Message text body <img src="cid:${cid}"></div>`,
      attachments: [
        {
          cid,
          contentDisposition: 'inline; filename=2561a.png',
          content: base64(LOGO_PNG),
          encoding: 'base64',
          filename: '2561a.png',
        },
        {
          contentDisposition: 'attachment',
          content: base64(DIARY_PDF),
          encoding: 'base64',
          filename: 'diary.pdf',
        },
        { content: 'plain words', encoding: 'utf8', filename: 'notes.txt' },
      ],
      received: [
        'by 130.7.72.46 with SMTP id g633m40907;\n Fri, 12 Oct 2016 17:26:53 -0700 (PDT)',
        'from mx.example.org by 130.7.72.46; Fri, 12 Oct 2016 17:26:50 -0700 (PDT)',
      ],
    })
    expect(result.recipients).toEqual([
      { address: to, delivered: true, via: 'inbox', _id: expect.any(String), inbox: to },
    ])
    expect(result.sendsRemaining).toBe(9)
    expect(await sendsRemaining(me.apiKey)).toBe(9)
    const id = result.recipients[0]._id

    const message = await json(`/api/addresses/${to}/messages/${id}`)
    expect(message.subject).toBe('Hey ✓')
    expect(message.from).toEqual([{ address: me.address, name: 'Sender Name' }])
    expect(message.to).toEqual([{ address: to, name: '' }])
    expect(message.text.trim()).toBe('Message text body [2561a.jpg]')
    expect(message.html).toContain(`<img src="cid:${cid}">`)

    const dirty = await (await call(`/api/dirty/${to}/${id}`)).text()
    expect(dirty).toContain(`src="data:image/png;base64,${base64(LOGO_PNG)}"`)

    const attachments = await json(`/api/addresses/${to}/messages/${id}/attachments`)
    expect(attachments.map((a: { fileName: string }) => a.fileName)).toEqual([
      '2561a.png',
      'diary.pdf',
      'notes.txt',
    ])
    expect(attachments[1].checksum).toBe(await md5(DIARY_PDF))
    expect(attachments[0].contentId).toContain(cid)
    const pdf = await call(
      `/api/addresses/${to}/messages/${id}/attachments/${await md5(DIARY_PDF)}`,
    )
    expect(new Uint8Array(await pdf.arrayBuffer())).toEqual(DIARY_PDF)
    expect(attachments[2].checksum).toBe(await md5(new TextEncoder().encode('plain words')))

    const ordered = await json<{ name: string; value: string }[]>(
      `/api/addresses/${to}/messages/${id}/headers?messageHeadersFormat=json-ordered`,
    )
    expect(ordered.slice(0, 2).map((h) => [h.name, h.value.replace(/\s+/g, ' ')])).toEqual([
      ['received', 'by 130.7.72.46 with SMTP id g633m40907; Fri, 12 Oct 2016 17:26:53 -0700 (PDT)'],
      ['received', 'from mx.example.org by 130.7.72.46; Fri, 12 Oct 2016 17:26:50 -0700 (PDT)'],
    ])
    const headers = await json(`/api/headers/${to}/${id}`)
    expect(headers['message-id']).toBe(result.messageId)
    expect(headers['mime-version']).toBe('1.0')
    expect(headers.date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/)
    expect(headers['content-type']).toMatch(/^multipart\/mixed/)

    const raw = await (await call(`/api/raw/${to}/${id}`)).text()
    expect(raw).toMatch(/Content-Type: multipart\/related/)
    expect(raw).toMatch(/Content-Type: multipart\/alternative/)
    expect(raw).toContain(`Content-ID: <${cid}>`)
    expect(raw.split('\r\n').every((line) => line.length <= 998)).toBe(true)
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)

    const row = await env.DB.prepare('select * from outbound_messages where id = ?')
      .bind(result._id)
      .first<Record<string, string>>()
    expect(row).toMatchObject({ account: me.id, from_address: me.address, subject: 'Hey ✓' })
    expect(JSON.parse(row!.recipients_json)).toEqual([to])
  })

  it('sends text only and HTML only as single parts', async () => {
    const me = await sender()
    const to = inbox('single')
    const text = await sent(me.apiKey, { to, from: me.address, subject: 'T', text: 'just text' })
    const html = await sent(me.apiKey, { to, from: me.address, subject: 'H', html: '<p>hi</p>' })
    const textHeaders = await json(`/api/headers/${to}/${text.recipients[0]._id}`)
    expect(textHeaders['content-type']).toMatch(/^text\/plain/)
    const htmlMessage = await json(`/api/addresses/${to}/messages/${html.recipients[0]._id}`)
    expect(htmlMessage.html).toContain('<p>hi</p>')
  })

  it('round-trips non-ASCII text, names and filenames, and long lines', async () => {
    const me = await sender()
    const to = inbox('utf')
    const longLine = 'x'.repeat(2000)
    const result = await sent(me.apiKey, {
      to: [{ address: to, name: 'Zoë Ærø' }],
      from: { address: me.address, name: 'Café «Le Bon»' },
      subject: 'Grüße 👋',
      text: `Grüße\n${longLine}`,
      attachments: [{ filename: 'résumé.txt', content: 'über', encoding: 'utf8' }],
    })
    const id = result.recipients[0]._id
    const message = await json(`/api/addresses/${to}/messages/${id}`)
    expect(message.subject).toBe('Grüße 👋')
    expect(message.from).toEqual([{ address: me.address, name: 'Café «Le Bon»' }])
    expect(message.to).toEqual([{ address: to, name: 'Zoë Ærø' }])
    expect(message.text.replace(/\r\n/g, '\n').trim()).toBe(`Grüße\n${longLine}`)
    const attachments = await json(`/api/addresses/${to}/messages/${id}/attachments`)
    expect(attachments[0].fileName).toBe('résumé.txt')
    const raw = await (await call(`/api/raw/${to}/${id}`)).text()
    expect(raw.split('\r\n').every((line) => line.length <= 998)).toBe(true)
    expect(raw).toMatch(/^[\x00-\x7f]*$/)
  })

  it('accepts a comma-separated list, recipient objects and plain strings, one credit each', async () => {
    const me = await sender(10)
    const [a, b, c] = [inbox('a'), inbox('b'), inbox('c')]
    const listed = await sent(me.apiKey, {
      to: `${a}, "Bee, B" <${b}>,${c}`,
      from: me.address,
      text: 'x',
    })
    expect(listed.recipients.map((r: { address: string }) => r.address)).toEqual([a, b, c])
    const objects = await sent(me.apiKey, {
      to: [{ address: a, name: 'A' }, b],
      from: [{ address: me.address, name: 'Me' }],
      text: 'x',
    })
    expect(objects.sendsRemaining).toBe(5)
    const message = await json(`/api/addresses/${b}/messages/${listed.recipients[1]._id}`)
    expect(message.to).toContainEqual({ address: b, name: 'Bee, B' })
  })

  it('takes the key from _mailsacKey in the body', async () => {
    const me = await sender()
    const response = await call('/api/outgoing-messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ _mailsacKey: me.apiKey, to: inbox('k'), from: me.address, text: 'k' }),
    })
    expect(response.status).toBe(200)
  })

  it('refuses anonymous callers with 401', async () => {
    const response = await call('/api/outgoing-messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: inbox('anon'), from: 'a@b.test', text: 'x' }),
    })
    expect(response.status).toBe(401)
  })

  it('refuses a 4th recipient with TooManyRecipientsResponse and spends nothing', async () => {
    const me = await sender(10)
    const to = [inbox('1'), inbox('2'), inbox('3'), inbox('4')]
    for (const form of [to, to.join(',')]) {
      const response = await send(me.apiKey, { to: form, from: me.address, text: 'x' })
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({
        message: 'The to field exceeds the maximum allowed size',
      })
    }
    expect(await sendsRemaining(me.apiKey)).toBe(10)
  })

  it('refuses a message without text or html', async () => {
    const me = await sender()
    const response = await send(me.apiKey, { to: inbox('empty'), from: me.address, subject: 'x' })
    expect(response.status).toBe(400)
    expect((await response.json<{ message: string }>()).message).toBe(
      'Either text or html is required.',
    )
  })

  it('refuses a missing to or from, naming the field', async () => {
    const me = await sender()
    const response = await send(me.apiKey, { from: me.address, text: 'x' })
    expect(response.status).toBe(400)
    expect((await response.json<{ message: string }>()).message).toMatch(/^Invalid to:/)
  })

  it('refuses a from domain that is not verified for sending by this account', async () => {
    const me = await sender(10)
    const other = await sender(10)
    const unverified = await createAccount({ sendsRemaining: 10 })
    await json('/internal/admin/domains', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ domain: `owned-${unverified.id}.test`, account: unverified.id }),
    })
    const cases = [
      [me.apiKey, 'someone@gmail.example'],
      [me.apiKey, other.address],
      [unverified.apiKey, `app@owned-${unverified.id}.test`],
    ]
    for (const [key, from] of cases) {
      const response = await send(key, { to: inbox('nope'), from, text: 'x' })
      expect(response.status).toBe(401)
      expect((await response.json<{ message: string }>()).message).toMatch(
        /^Sending from .* is not allowed/,
      )
    }
    expect(await sendsRemaining(me.apiKey)).toBe(10)
  })

  it('answers NotEnoughCreditsResponse (402) when too few credits are left', async () => {
    const me = await sender(2)
    const response = await send(me.apiKey, {
      to: [inbox('x'), inbox('y'), inbox('z')],
      from: me.address,
      text: 'x',
    })
    expect(response.status).toBe(402)
    expect(await response.json()).toEqual({
      error: 'Payment Required',
      message: 'You must purchase more outgoing messages before you can send',
    })
    expect(await sendsRemaining(me.apiKey)).toBe(2)
  })

  it('never overdraws credits under 20 concurrent sends', async () => {
    const credits = 7
    const me = await sender(credits)
    const to = inbox('race')
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send(me.apiKey, { to, from: me.address, subject: `race ${i}`, text: 'x' }),
      ),
    )
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(credits)
    expect(statuses.filter((status) => status === 402)).toHaveLength(20 - credits)
    expect(await json(`/api/addresses/${to}/message-count`)).toMatchObject({ count: credits })
    expect(await sendsRemaining(me.apiKey)).toBe(0)
    const row = await env.DB.prepare('select min(sends_remaining) as low from accounts').first<{
      low: number
    }>()
    expect(row!.low).toBeGreaterThanOrEqual(0)
  })

  describe('header injection', () => {
    const injections: [string, (from: string, to: string) => Record<string, unknown>][] = [
      ['subject', (from, to) => ({ to, from, subject: 'Hi\r\nBcc: victim@x.test', text: 'x' })],
      [
        'from name',
        (from, to) => ({ to, from: { address: from, name: 'Me\nBcc: v@x.test' }, text: 'x' }),
      ],
      ['from string', (from, to) => ({ to, from: `Me <${from}>\r\nBcc: v@x.test`, text: 'x' })],
      [
        'to address',
        (from, to) => ({ to: [{ address: `${to}\r\nBcc: v@x.test` }], from, text: 'x' }),
      ],
      ['to name', (from, to) => ({ to: [{ address: to, name: 'A\rB' }], from, text: 'x' })],
      [
        'received',
        (from, to) => ({ to, from, text: 'x', received: 'by x;\r\nBcc: victim@x.test' }),
      ],
      [
        'attachment filename',
        (from, to) => ({
          to,
          from,
          text: 'x',
          attachments: [{ filename: 'a.txt"\r\nContent-Type: text/html', content: 'x' }],
        }),
      ],
      [
        'attachment content type',
        (from, to) => ({
          to,
          from,
          text: 'x',
          attachments: [{ filename: 'a.txt', contentType: 'text/plain\r\nX: y', content: 'x' }],
        }),
      ],
    ]
    for (const [field, body] of injections) {
      it(`refuses CR/LF in the ${field} and delivers nothing`, async () => {
        const me = await sender(5)
        const to = inbox('inject')
        const response = await send(me.apiKey, body(me.address, to))
        expect(response.status).toBe(400)
        expect((await response.json<{ message: string }>()).message).toMatch(/^Invalid /)
        expect(await json(`/api/addresses/${to}/message-count`)).toMatchObject({ count: 0 })
        expect(await sendsRemaining(me.apiKey)).toBe(5)
      })
    }
  })

  describe('raw', () => {
    it('delivers the raw message as is, ignoring every other field', async () => {
      const me = await sender(5)
      const rawTo = inbox('raw')
      const otherTo = inbox('ignored')
      const raw = [
        'Received: from laptop by mx; Tue, 24 Nov 2026 10:00:00 +0000',
        `From: Raw Sender <${me.address}>`,
        `To: ${rawTo}`,
        'Subject: from raw',
        'Message-ID: <raw-1@example.test>',
        'Date: Tue, 24 Nov 2026 10:00:00 +0000',
        'MIME-Version: 1.0',
        'Content-Type: multipart/alternative; boundary=b1',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'raw text',
        '--b1',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<b>raw html</b>',
        '--b1--',
        '',
      ].join('\r\n')
      const result = await sent(me.apiKey, {
        raw,
        to: otherTo,
        from: 'ignored@nowhere.test',
        subject: 'ignored',
        text: 'ignored',
        attachments: 'not even an array',
      })
      expect(result).toMatchObject({ from: me.address, to: [rawTo], subject: 'from raw' })
      expect(result.messageId).toBe('<raw-1@example.test>')
      const id = result.recipients[0]._id
      const stored = await call(`/api/raw/${rawTo}/${id}`)
      expect(await stored.text()).toBe(raw)
      const message = await json(`/api/addresses/${rawTo}/messages/${id}`)
      expect(message.html).toContain('<b>raw html</b>')
      expect(await json(`/api/addresses/${otherTo}/message-count`)).toMatchObject({ count: 0 })
    })

    it('delivers to the envelope recipients when given, and adds a missing Message-ID', async () => {
      const me = await sender(5)
      const envelopeTo = inbox('envelope')
      const raw = `From: ${me.address}\r\nTo: header@inbox.test\r\nSubject: env\r\n\r\nbody\r\n`
      const result = await sent(me.apiKey, { raw, envelope: { to: [envelopeTo] } })
      expect(result.to).toEqual([envelopeTo])
      expect(result.messageId).toMatch(new RegExp(`^<\\w+@${me.domain}>$`))
      const headers = await json(`/api/headers/${envelopeTo}/${result.recipients[0]._id}`)
      expect(headers['message-id']).toBe(result.messageId)
    })

    it('delivers to Bcc recipients without the Bcc field, so no one sees who was copied', async () => {
      const me = await sender(5)
      const to = inbox('visible')
      const hidden = inbox('blind')
      const raw =
        `From: ${me.address}\r\nTo: ${to}\r\nBcc: Secret\r\n  <${hidden}>\r\n` +
        'Subject: bcc\r\nMessage-ID: <bcc@x.test>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nhi\r\n'
      const result = await sent(me.apiKey, { raw })
      expect(result.to).toEqual([to, hidden])
      for (const [address, { _id }] of [to, hidden].map(
        (a, i) => [a, result.recipients[i]] as const,
      )) {
        const stored = await (await call(`/api/raw/${address}/${_id}`)).text()
        expect(stored).toBe(raw.replace(`Bcc: Secret\r\n  <${hidden}>\r\n`, ''))
      }
    })

    it('checks the raw From domain and caps the recipients', async () => {
      const me = await sender(5)
      const spoofed = await send(me.apiKey, {
        raw: `From: ceo@bank.test\r\nTo: ${inbox('r')}\r\n\r\nx\r\n`,
      })
      expect(spoofed.status).toBe(401)
      const many = await send(me.apiKey, {
        raw: `From: ${me.address}\r\nTo: a@i.test, b@i.test, c@i.test, d@i.test\r\n\r\nx\r\n`,
      })
      expect(many.status).toBe(400)
      expect(await sendsRemaining(me.apiKey)).toBe(5)
    })

    it('takes base64 raw bytes exactly (8-bit, not UTF-8)', async () => {
      const me = await sender(5)
      const to = inbox('latin')
      const text =
        `From: ${me.address}\r\nTo: ${to}\r\nSubject: caf\xe9\r\nMessage-ID: <l@x.test>\r\n` +
        'Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n' +
        'Content-Type: text/plain; charset=ISO-8859-1\r\n\r\nVoil\xe0\r\n'
      const bytes = Uint8Array.from(text, (char) => char.charCodeAt(0))
      const result = await sent(me.apiKey, { raw: base64(bytes), rawEncoding: 'base64' })
      const stored = await call(`/api/raw/${to}/${result.recipients[0]._id}`)
      expect(new Uint8Array(await stored.arrayBuffer())).toEqual(bytes)
    })
  })

  describe('recipients outside this service', () => {
    /** POST through the Worker with ACCEPTED_DOMAINS set and a recording EMAIL binding. */
    async function sendWith(
      EMAIL: SendEmail,
      key: string,
      body: Record<string, unknown>,
    ): Promise<Response> {
      const request = new Request('http://mail.test/api/outgoing-messages', {
        method: 'POST',
        headers: { 'Mailsac-Key': key, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      return worker.fetch(
        request,
        { ...env, EMAIL, ACCEPTED_DOMAINS: 'inbox.test' },
        createExecutionContext(),
      )
    }

    function recordingBinding(fail = false) {
      const sends: { from: string; to: string }[] = []
      const EMAIL = {
        send: async (message: EmailMessage) => {
          sends.push({ from: message.from, to: message.to })
          if (fail) throw new Error('destination not verified')
          // The real binding (wrangler's simulation) checks the message too.
          return env.EMAIL.send(message)
        },
      } as unknown as SendEmail
      return { EMAIL, sends }
    }

    it('relays a non-local recipient through one send_email call, without Received headers', async () => {
      const me = await sender(5)
      const local = inbox('local')
      const { EMAIL, sends } = recordingBinding()
      const response = await sendWith(EMAIL, me.apiKey, {
        to: [local, 'friend@elsewhere.example'],
        from: me.address,
        subject: 'out',
        text: 'hello',
        received: 'from app by relay; Tue, 24 Nov 2026 10:00:00 +0000',
      })
      const body = await response.json<{ recipients: unknown[]; sendsRemaining: number }>()
      expect(response.status, JSON.stringify(body)).toBe(200)
      // Delivered means wrangler's simulation accepted it: it refuses Received: headers.
      expect(sends).toEqual([{ from: me.address, to: 'friend@elsewhere.example' }])
      expect(body.recipients).toEqual([
        { address: local, delivered: true, via: 'inbox', _id: expect.any(String), inbox: local },
        { address: 'friend@elsewhere.example', delivered: true, via: 'send_email' },
      ])
      expect(body.sendsRemaining).toBe(3)
    })

    it('gives back the credit of a recipient whose relay failed', async () => {
      const me = await sender(5)
      const { EMAIL } = recordingBinding(true)
      const partial = await sendWith(EMAIL, me.apiKey, {
        to: [inbox('ok'), 'friend@elsewhere.example'],
        from: me.address,
        text: 'x',
      })
      const body = await partial.json<{ recipients: { delivered: boolean }[] }>()
      expect(partial.status).toBe(200)
      expect(body.recipients.map((r) => r.delivered)).toEqual([true, false])
      expect(await sendsRemaining(me.apiKey)).toBe(4)

      const none = await sendWith(EMAIL, me.apiKey, {
        to: 'friend@elsewhere.example',
        from: me.address,
        text: 'x',
      })
      expect(none.status).toBe(503)
      expect(await sendsRemaining(me.apiKey)).toBe(4)
    })
  })
})

describe('PUT /internal/admin/accounts/:username/sends', () => {
  it('sets or adds to the outbound credit balance', async () => {
    const account = await createAccount()
    const put = (body: unknown, status = 200) =>
      json(
        `/internal/admin/accounts/${account.id}/sends`,
        {
          method: 'PUT',
          headers: { ...ADMIN, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        },
        status,
      )
    expect(await put({ set: 10 })).toEqual({ _id: account.id, sendsRemaining: 10 })
    expect(await put({ add: 5 })).toEqual({ _id: account.id, sendsRemaining: 15 })
    expect(await put({ add: -20 }, 400)).toMatchObject({ error: 'Bad Request' })
    expect(await put({ set: -1 }, 400)).toMatchObject({ error: 'Bad Request' })
    expect(await sendsRemaining(account.apiKey)).toBe(15)
    await json(
      '/internal/admin/accounts/nobody-here/sends',
      {
        method: 'PUT',
        headers: { ...ADMIN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ set: 1 }),
      },
      404,
    )
  })
})

describe('POST /api/outgoing-messages: authorship and parsing limits', () => {
  it('#13.6 refuses a from of 3,000 spaces before parsing it (998-character field cap)', async () => {
    const me = await sender(5)
    for (const from of [' '.repeat(3000) + 'x', { address: `${'a'.repeat(999)}@x.test` }]) {
      const response = await send(me.apiKey, { to: inbox('redos'), from, text: 'x' })
      expect(response.status).toBe(400)
      expect((await response.json<{ message: string }>()).message).toMatch(/at most 998/)
    }
    const longTo = await send(me.apiKey, {
      to: [' '.repeat(3000) + 'x'],
      from: me.address,
      text: 'x',
    })
    expect((await longTo.json<{ message: string }>()).message).toMatch(/Invalid to: at most 998/)
    expect(await sendsRemaining(me.apiKey)).toBe(5)
  })

  it('#13.7 authorises every From mailbox of a raw message, not just the first', async () => {
    const me = await sender(5)
    const response = await send(me.apiKey, {
      raw: `From: ${me.address}, ceo@bank.test\r\nTo: ${inbox('r')}\r\nSubject: x\r\n\r\nx\r\n`,
    })
    expect(response.status).toBe(401)
    expect((await response.json<{ message: string }>()).message).toMatch(/bank\.test/)
    expect(await sendsRemaining(me.apiKey)).toBe(5)
  })

  it('#13.7 refuses a raw message with a second From field', async () => {
    const me = await sender(5)
    for (const second of [`From: ceo@bank.test`, `from: ${me.address}`]) {
      const response = await send(me.apiKey, {
        raw: `From: ${me.address}\r\n${second}\r\nTo: ${inbox('r')}\r\n\r\nx\r\n`,
      })
      expect(response.status).toBe(400)
      expect((await response.json<{ message: string }>()).message).toMatch(/more than one From/)
    }
    expect(await sendsRemaining(me.apiKey)).toBe(5)
  })

  it('#13.7 authorises the Sender mailbox and refuses a second Sender field', async () => {
    const me = await sender(5)
    const to = inbox('r')
    const spoofed = await send(me.apiKey, {
      raw: `From: ${me.address}\r\nSender: CEO <ceo@bank.test>\r\nTo: ${to}\r\n\r\nx\r\n`,
    })
    expect(spoofed.status).toBe(401)
    const twice = await send(me.apiKey, {
      raw: `From: ${me.address}\r\nSender: ${me.address}\r\nSender: ${me.address}\r\nTo: ${to}\r\n\r\nx\r\n`,
    })
    expect(twice.status).toBe(400)
    const own = await send(me.apiKey, {
      raw: `From: ${me.address}\r\nSender: ops@${me.domain}\r\nTo: ${to}\r\n\r\nx\r\n`,
    })
    expect(own.status).toBe(200)
    expect(await sendsRemaining(me.apiKey)).toBe(4)
  })
})
