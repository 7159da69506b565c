import { env } from 'cloudflare:workers'
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../../src/index'
import { ingestMessage } from '../../../src/mail/inbound/ingest'
import fixture from '../../fixtures/inline-and-attachment.eml?raw'
import { DIARY_PDF, LOGO_PNG, md5 } from '../../fixture-bytes'
import { call, createAccount, ingest, json, latin1, reserve, simpleMessage } from '../../requests'

async function rowCount(inbox: string): Promise<number> {
  const row = await env.DB.prepare('select count(*) as n from messages where inbox = ?')
    .bind(inbox)
    .first<{ n: number }>()
  return row?.n ?? 0
}

/** An R2 bucket whose writes fail, standing in for an R2 outage. */
function failingBucket(): R2Bucket {
  return new Proxy(env.MAIL, {
    get(target, property) {
      if (property === 'put') return async () => Promise.reject(new Error('R2 is down'))
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** A minimal ForwardableEmailMessage as Email Routing hands it to `email()`. */
function routedEmail(raw: Uint8Array, from: string, to: string) {
  const rejections: string[] = []
  const message = {
    from,
    to,
    raw: new Response(raw).body as ReadableStream,
    rawSize: raw.byteLength,
    headers: new Headers(),
    setReject: (reason: string) => void rejections.push(reason),
    forward: async () => ({ messageId: '' }),
    reply: async () => ({ messageId: '' }),
  } as unknown as ForwardableEmailMessage
  return { message, rejections }
}

describe('ingest pipeline', () => {
  it('keeps an ISO-8859-1 8bit message byte-for-byte and decodes it by its charset', async () => {
    const raw = latin1(
      [
        'From: =?ISO-8859-1?Q?Ren=E9?= <rene@example.fr>',
        'To: latin@example.com',
        'Subject: caf\xe9 cr\xe8me',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=ISO-8859-1',
        'Content-Transfer-Encoding: 8bit',
        '',
        'Voil\xe0 le march\xe9 \xff\xfe bytes.',
        '',
      ].join('\r\n'),
    )
    const [stored] = await ingest(raw, ['latin@example.com'])
    const rawResponse = await call(`/api/raw/latin@example.com/${stored._id}`)
    expect(new Uint8Array(await rawResponse.arrayBuffer())).toEqual(raw)

    const text = await call(`/api/text/latin@example.com/${stored._id}`)
    expect(await text.text()).toContain('Voilà le marché')
    const message = await json(`/api/addresses/latin@example.com/messages/${stored._id}`)
    expect(message.from).toEqual([{ name: 'René', address: 'rene@example.fr' }])
    expect(message.size).toBe(raw.byteLength)
  })

  it('stores one row per recipient inbox with ids <delivery>-0, -1', async () => {
    const stored = await ingest(simpleMessage(), [
      'One@Example.com',
      'two@example.com',
      'one@example.com',
    ])
    expect(stored.map((m) => m.inbox)).toEqual(['one@example.com', 'two@example.com'])
    const [delivery] = stored[0]._id.split('-')
    expect(stored.map((m) => m._id)).toEqual([`${delivery}-0`, `${delivery}-1`])
    expect(await rowCount('one@example.com')).toBe(1)
    expect(await rowCount('two@example.com')).toBe(1)
  })

  it('lists attachment MD5s and serves the exact bytes of inline and attached parts', async () => {
    const [stored] = await ingest(fixture, ['test@example.com'])
    const message = await json(`/api/addresses/test@example.com/messages/${stored._id}`)
    expect(message.attachments).toEqual([await md5(LOGO_PNG), await md5(DIARY_PDF)])

    const pdf = await call(
      `/api/addresses/test@example.com/messages/${stored._id}/attachments/diary.pdf`,
    )
    expect(pdf.headers.get('content-type')).toBe('application/pdf')
    expect(new Uint8Array(await pdf.arrayBuffer())).toEqual(DIARY_PDF)
    const byMd5 = await call(
      `/api/addresses/test@example.com/messages/${stored._id}/attachments/${await md5(LOGO_PNG)}`,
    )
    expect(new Uint8Array(await byMd5.arrayBuffer())).toEqual(LOGO_PNG)
    const byCid = await call(
      `/api/addresses/test@example.com/messages/${stored._id}/attachments/logo@example.com`,
    )
    expect(new Uint8Array(await byCid.arrayBuffer())).toEqual(LOGO_PNG)
  })

  it('stores an attachment carried by two messages once', async () => {
    await ingest(fixture, ['dedupe-a@example.com'])
    await ingest(fixture.replace('Subject: Page 2', 'Subject: Again'), ['dedupe-b@example.com'])
    const pdfMd5 = await md5(DIARY_PDF)
    const listed = await env.MAIL.list({ prefix: `attachments/${pdfMd5}` })
    expect(listed.objects).toHaveLength(1)
    const blobs = await env.DB.prepare('select count(*) as n from attachment_blobs where md5 = ?')
      .bind(pdfMd5)
      .first<{ n: number }>()
    expect(blobs?.n).toBe(1)
    const refs = await env.DB.prepare('select count(*) as n from message_attachments where md5 = ?')
      .bind(pdfMd5)
      .first<{ n: number }>()
    expect(refs?.n).toBeGreaterThanOrEqual(2)
  })

  it('refuses with a temporary failure and stores no row when R2 fails', async () => {
    const attempt = ingestMessage({ ...env, MAIL: failingBucket() }, latin1(simpleMessage()), {
      from: 'a@example.org',
      to: ['r2-down@example.com'],
    })
    await expect(attempt).rejects.toMatchObject({ permanent: false, status: 503 })
    expect(await rowCount('r2-down@example.com')).toBe(0)
  })

  it('removes its R2 objects and stores no row when the D1 write fails', async () => {
    const brokenDb = new Proxy(env.DB, {
      get(target, property) {
        if (property === 'batch') return async () => Promise.reject(new Error('D1 is down'))
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const before = (await env.MAIL.list({ prefix: 'packs/' })).objects.length
    const attempt = ingestMessage({ ...env, DB: brokenDb }, latin1(simpleMessage()), {
      from: 'a@example.org',
      to: ['d1-down@example.com', 'd1-down-2@example.com'],
    })
    await expect(attempt).rejects.toMatchObject({ permanent: false, status: 503 })
    expect(await rowCount('d1-down@example.com')).toBe(0)
    expect(await rowCount('d1-down-2@example.com')).toBe(0)
    expect((await env.MAIL.list({ prefix: 'packs/' })).objects.length).toBe(before)
  })

  it('refuses bad envelopes and oversize mail permanently with the right status', async () => {
    const bad = await call('/internal/ingest?from=a@b.c&to=not-an-address', {
      method: 'POST',
      headers: { Authorization: 'Bearer test-ingest-token' },
      body: simpleMessage(),
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: 'Bad Request',
      message: expect.stringContaining('not-an-address'),
    })

    const none = await call('/internal/ingest?from=a@b.c', {
      method: 'POST',
      headers: { Authorization: 'Bearer test-ingest-token' },
      body: simpleMessage(),
    })
    expect(none.status).toBe(400)

    const big = new Uint8Array(25 * 1024 * 1024 + 1).fill(65)
    const tooBig = await call('/internal/ingest?from=a@b.c&to=big@example.com', {
      method: 'POST',
      headers: { Authorization: 'Bearer test-ingest-token' },
      body: big,
    })
    expect(tooBig.status).toBe(413)
    expect(await rowCount('big@example.com')).toBe(0)
  })

  it('refuses /internal/ingest without the ingest token', async () => {
    const response = await call('/internal/ingest?from=a@b.c&to=x@example.com', {
      method: 'POST',
      headers: { Authorization: 'Bearer wrong' },
      body: simpleMessage(),
    })
    expect(response.status).toBe(401)
    expect(await rowCount('x@example.com')).toBe(0)
  })

  it('refuses recipients outside ACCEPTED_DOMAINS when the setting is given', async () => {
    const attempt = ingestMessage(
      { ...env, ACCEPTED_DOMAINS: 'mine.test, other.test' },
      latin1(simpleMessage()),
      { from: 'a@example.org', to: ['x@elsewhere.test'] },
    )
    await expect(attempt).rejects.toMatchObject({ permanent: true, status: 403 })
    const ok = await ingestMessage(
      { ...env, ACCEPTED_DOMAINS: 'mine.test, other.test' },
      latin1(simpleMessage()),
      { from: 'a@example.org', to: ['x@Mine.test'] },
    )
    expect(ok).toHaveLength(1)
  })

  it('delivers mail sent to an encryptedInbox into the private inbox', async () => {
    const owner = await createAccount()
    const address = await reserve('secret@example.com', owner.apiKey)
    const [stored] = await ingest(simpleMessage(), [address.encryptedInbox])
    expect(stored.inbox).toBe('secret@example.com')
    const [listed] = await json('/api/addresses/secret@example.com/messages', {
      headers: owner.headers,
    })
    expect(listed.originalInbox).toBe(address.encryptedInbox)
    expect(listed.inbox).toBe('secret@example.com')
  })
})

describe('email() handler', () => {
  it('stores routed mail through the same pipeline', async () => {
    const raw = latin1(simpleMessage({ subject: 'Routed' }))
    const { message, rejections } = routedEmail(raw, 'a@example.org', 'routed@example.com')
    await worker.email(message, env)
    expect(rejections).toEqual([])
    const [listed] = await json('/api/addresses/routed@example.com/messages')
    expect(listed.subject).toBe('Routed')
  })

  it('throws (temporary failure) instead of rejecting or dropping when storage fails', async () => {
    const { message, rejections } = routedEmail(
      latin1(simpleMessage()),
      'a@example.org',
      'routed-down@example.com',
    )
    await expect(worker.email(message, { ...env, MAIL: failingBucket() })).rejects.toThrow(
      /Temporary storage failure/,
    )
    expect(rejections).toEqual([])
    expect(await rowCount('routed-down@example.com')).toBe(0)
  })

  it('rejects permanently (setReject) what can never be stored', async () => {
    const { message, rejections } = routedEmail(
      latin1(simpleMessage()),
      'a@example.org',
      'not an address',
    )
    await worker.email(message, env)
    expect(rejections).toHaveLength(1)
    expect(rejections[0]).toMatch(/Invalid recipient/)
  })

  it('is reachable from the exports of the worker module', () => {
    expect(typeof exports.default.fetch).toBe('function')
  })
})

describe('large envelopes', () => {
  it('stores a message to 100 recipients, some of them private', async () => {
    const owner = await createAccount()
    await reserve('many-0@example.com', owner.apiKey)
    const recipients = Array.from({ length: 100 }, (_, i) => `many-${i}@example.com`)
    const stored = await ingest(simpleMessage(), recipients)
    expect(stored).toHaveLength(100)
    expect(await rowCount('many-99@example.com')).toBe(1)
  })
})
