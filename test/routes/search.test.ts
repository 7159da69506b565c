import { describe, expect, it } from 'vitest'
import { textFile, mimeMessage } from '../mail-builders'
import { SEARCH_TEXT_CHARS } from '../../src/limits'
import { call, createAccount, ingest, json, reserve, simpleMessage } from '../requests'

const day = (offset: number) =>
  new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)

/** Subjects of a list response (the inbox list's array or inbox-search's `messages`). */
const subjects = (list: { subject: string }[]) => list.map((m) => m.subject).sort()

function mail(fields: { from?: string; to: string; cc?: string; subject: string; body?: string }) {
  return [
    `From: ${fields.from ?? 'Sender <sender@example.org>'}`,
    `To: ${fields.to}`,
    ...(fields.cc ? [`Cc: ${fields.cc}`] : []),
    `Subject: ${fields.subject}`,
    `Message-ID: <${crypto.randomUUID()}@example.org>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.body ?? 'Nothing to see.',
    '',
  ].join('\r\n')
}

/** A public inbox of five messages covering every operator. */
async function fixtureInbox() {
  const inbox = `search-${crypto.randomUUID().slice(0, 8)}@example.com`
  const viewer = await createAccount()
  const ids: Record<string, string> = {}
  const store = async (name: string, raw: string | Uint8Array) => {
    ids[name] = (await ingest(raw, [inbox]))[0]._id
  }
  await store(
    'code',
    mail({
      from: 'Acme Login <login@acme.test>',
      to: inbox,
      subject: 'Your sign-in code',
      body: 'Use 482913 to sign in. Grüße, das Team.',
    }),
  )
  await store(
    'invoice',
    mail({
      from: 'billing@shop.test',
      to: 'someone-else@example.net',
      cc: 'Accounts <accounts@corp.test>',
      subject: 'Invoice 100% paid',
      body: 'Thank you for your order. Do not reply to this message.',
    }),
  )
  await store(
    'report',
    mimeMessage({
      to: inbox,
      from: 'reports@corp.test',
      subject: 'Weekly report',
      files: [textFile('report.txt', 'x'.repeat(30_000))],
    }),
  )
  await store('reset', mail({ to: inbox, subject: 'Reset your password', body: 'Click to reset.' }))
  await store('newsletter', mail({ from: 'news@acme.test', to: inbox, subject: 'News' }))
  const path = `/api/addresses/${inbox}/messages`
  await json(`${path}/${ids.code}/read/true`, { method: 'PUT', headers: viewer.headers })
  await json(`${path}/${ids.invoice}/labels/Finance`, { method: 'PUT', headers: viewer.headers })
  const search = async (q: string) => subjects(await json(`${path}?q=${encodeURIComponent(q)}`))
  return { inbox, ids, viewer, search, path }
}

describe('GET /api/addresses/:email/messages?q=', () => {
  it('filters by each operator', async () => {
    const { search } = await fixtureInbox()
    expect(await search('from:acme')).toEqual(['News', 'Your sign-in code'])
    expect(await search('from:"Acme Login"')).toEqual(['Your sign-in code'])
    // To, Cc, or the inbox itself.
    expect(await search('to:corp.test')).toEqual(['Invoice 100% paid'])
    expect(await search('to:someone-else')).toEqual(['Invoice 100% paid'])
    expect(await search('subject:RESET')).toEqual(['Reset your password'])
    expect(await search('has:attachment')).toEqual(['Weekly report'])
    expect(await search('is:read')).toEqual(['Your sign-in code'])
    expect(await search('is:unread')).toHaveLength(4)
    expect(await search('label:finance')).toEqual(['Invoice 100% paid'])
    expect(await search('larger:20k')).toEqual(['Weekly report'])
    expect(await search('smaller:20k')).toHaveLength(4)
    expect(await search(`after:${day(0)}`)).toHaveLength(5)
    expect(await search(`after:${day(1)}`)).toEqual([])
    expect(await search(`before:${day(1)}`)).toHaveLength(5)
    expect(await search(`before:${day(0)}`)).toEqual([])
  })

  it('matches plain words and phrases over subject, addresses and the text body', async () => {
    const { search } = await fixtureInbox()
    expect(await search('482913')).toEqual(['Your sign-in code'])
    expect(await search('"do not reply"')).toEqual(['Invoice 100% paid'])
    expect(await search('"reply do not"')).toEqual([])
    expect(await search('shop.test')).toEqual(['Invoice 100% paid'])
    expect(await search('weekly')).toEqual(['Weekly report'])
    // Lower-cased in JavaScript at ingest, so non-ASCII letters match in any case.
    expect(await search('GRÜSSE')).toEqual([])
    expect(await search('GRÜẞE'.replace('ẞ', 'ß'))).toEqual(['Your sign-in code'])
    // `%` and `_` are not wildcards.
    expect(await search('100%')).toEqual(['Invoice 100% paid'])
    expect(await search('1_0')).toEqual([])
  })

  it('searches the first SEARCH_TEXT_CHARS of the text body, or of the HTML text without one', async () => {
    const inbox = `long-${crypto.randomUUID().slice(0, 8)}@example.com`
    const filler = 'lorem '.repeat(Math.ceil(SEARCH_TEXT_CHARS / 6))
    await ingest(mail({ to: inbox, subject: 'Long', body: `early ${filler} late` }), [inbox])
    const html = [
      'From: sender@example.org',
      `To: ${inbox}`,
      'Subject: Html only',
      'Content-Type: text/html',
      '',
      '<p>Your <b>magic</b> link</p>',
      '',
    ].join('\r\n')
    await ingest(html, [inbox])
    const search = async (q: string) =>
      subjects(await json(`/api/addresses/${inbox}/messages?q=${encodeURIComponent(q)}`))
    expect(await search('early')).toEqual(['Long'])
    expect(await search('late')).toEqual([])
    expect(await search('magic')).toEqual(['Html only'])
  })

  it('ANDs terms and negates any of them with -', async () => {
    const { search } = await fixtureInbox()
    expect(await search('from:acme -is:read')).toEqual(['News'])
    expect(await search('-from:acme -has:attachment -label:finance')).toEqual([
      'Reset your password',
    ])
    expect(await search('-"sign in"')).toHaveLength(4)
    expect(await search('acme code')).toEqual(['Your sign-in code'])
  })

  it('keeps paging: limit and until apply to the matches', async () => {
    const { path } = await fixtureInbox()
    type Row = { _id: string; subject: string; received: string }
    const first = await json<Row[]>(`${path}?q=-has:attachment&limit=2`)
    expect(first).toHaveLength(2)
    const rest = await json<Row[]>(`${path}?q=-has:attachment&until=${first[1].received}`)
    for (const row of rest) {
      expect(row.subject).not.toBe('Weekly report')
      expect(first.map((m) => m._id)).not.toContain(row._id)
      expect(Date.parse(row.received)).toBeLessThan(Date.parse(first[1].received))
    }
  })

  it('answers 400 {error, message} for malformed queries', async () => {
    const { path } = await fixtureInbox()
    for (const [q, reason] of [
      ['subject:"unclosed', /Unbalanced quote/],
      ['form:alice', /Unknown search operator "form:"/],
      ['after:yesterday', /after: wants a date as YYYY-MM-DD/],
    ] as const) {
      const response = await call(`${path}?q=${encodeURIComponent(q)}`)
      expect(response.status).toBe(400)
      const body = await response.json<{ error: string; message: string }>()
      expect(body.error).toEqual(expect.any(String))
      expect(body.message).toMatch(reason)
    }
  })

  it('never lists a message starred by another account, whatever the query', async () => {
    const { ids, viewer, search, path } = await fixtureInbox()
    const other = await createAccount()
    await json(`${path}/${ids.reset}/star`, { method: 'PUT', headers: other.headers })
    expect(await search('subject:reset')).toEqual([])
    expect(await search('is:starred')).toEqual([])
    const asViewer = await json(`${path}?q=is:starred`, { headers: viewer.headers })
    expect(asViewer).toEqual([])
    const asStarrer = await json(`${path}?q=is:starred`, { headers: other.headers })
    expect(subjects(asStarrer)).toEqual(['Reset your password'])
  })

  it('needs the owner key for a private inbox, as the plain list does', async () => {
    const owner = await createAccount()
    const inbox = `private-search-${crypto.randomUUID().slice(0, 8)}@example.com`
    await reserve(inbox, owner.apiKey)
    await ingest(simpleMessage({ to: inbox, subject: 'secret' }), [inbox])
    const stranger = await createAccount()
    const path = `/api/addresses/${inbox}/messages?q=subject:secret`
    expect((await call(path, { headers: stranger.headers })).status).toBe(401)
    expect(subjects(await json(path, { headers: owner.headers }))).toEqual(['secret'])
  })
})

describe('GET /api/inbox-search', () => {
  it('searches the account mail with the syntax and never another account', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    const mine = `mine-${crypto.randomUUID().slice(0, 8)}@example.com`
    const theirs = `theirs-${crypto.randomUUID().slice(0, 8)}@example.com`
    await reserve(mine, owner.apiKey)
    await reserve(theirs, other.apiKey)
    await ingest(mail({ to: mine, subject: 'Order shipped', body: 'tracking 1Z999' }), [mine])
    await ingest(mail({ to: mine, subject: 'Order paid', body: 'receipt' }), [mine])
    await ingest(mail({ to: theirs, subject: 'Order shipped', body: 'tracking 1Z999' }), [theirs])
    const search = async (query: string) => {
      const body = await json(`/api/inbox-search?query=${encodeURIComponent(query)}`, {
        headers: owner.headers,
      })
      expect(body.query).toBe(query)
      return subjects(body.messages)
    }
    expect(await search('subject:order -subject:paid')).toEqual(['Order shipped'])
    expect(await search('"tracking 1z999"')).toEqual(['Order shipped'])
    expect(await search(`to:${mine} is:unread`)).toEqual(['Order paid', 'Order shipped'])
  })

  it('keeps the Mailsac meaning for a query without syntax: the whole query in subject, from or to', async () => {
    const owner = await createAccount()
    const mine = `plain-${crypto.randomUUID().slice(0, 8)}@example.com`
    await reserve(mine, owner.apiKey)
    await ingest(mail({ to: mine, subject: 'Order shipped', body: 'tracking number' }), [mine])
    const search = async (query: string) =>
      subjects(
        (
          await json(`/api/inbox-search?query=${encodeURIComponent(query)}`, {
            headers: owner.headers,
          })
        ).messages,
      )
    // The body is not searched and the words are one string, as on Mailsac.
    expect(await search('tracking')).toEqual([])
    expect(await search('shipped order')).toEqual([])
    expect(await search('order shipped')).toEqual(['Order shipped'])
    // A colon that is not a known operator is plain text, not a 400.
    expect(await search('http://x')).toEqual([])
  })

  it('#17.3 the JSON-text prefilter never loses a match: name <address> spans, accents, newest first', async () => {
    const owner = await createAccount()
    const mine = `pre-${crypto.randomUUID().slice(0, 8)}@example.com`
    await reserve(mine, owner.apiKey)
    await ingest(mail({ from: 'Zoë Smith <zoe@accent.test>', to: mine, subject: 'first' }), [mine])
    await ingest(mail({ from: 'Plain <plain@other.test>', to: mine, subject: 'second' }), [mine])
    const search = async (query: string) =>
      (
        await json(`/api/inbox-search?query=${encodeURIComponent(query)}`, {
          headers: owner.headers,
        })
      ).messages.map((m: { subject: string }) => m.subject)
    // Across the name and the address, which the stored JSON never holds side by side.
    expect(await search('from:"smith <zoe@"')).toEqual(['first'])
    expect(await search('from:zoë')).toEqual(['first'])
    expect(await search('from:ZOË')).toEqual(['first'])
    expect(await search('accent.test')).toEqual(['first'])
    // The ids are sorted first, then read: still newest first.
    expect(await search('subject:s')).toEqual(['second', 'first'])
    expect(await search(`to:${mine}`)).toEqual(['second', 'first'])
  })

  it('answers 400 {error, message} for malformed syntax', async () => {
    const owner = await createAccount()
    const response = await call(`/api/inbox-search?query=${encodeURIComponent('from:"x')}`, {
      headers: owner.headers,
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      message: expect.stringMatching(/Unbalanced quote/),
    })
  })
})
