import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import fixture from '../fixtures/inline-and-attachment.eml?raw'
import { LOGO_PNG } from '../fixture-bytes'
import { call, createAccount, ingest, json, simpleMessage } from '../requests'

describe('GET /api/addresses/:email/messages', () => {
  it('lists abbreviated messages newest first, paged by limit and until', async () => {
    const inbox = 'paging@example.com'
    for (const subject of ['first', 'second', 'third']) {
      await ingest(simpleMessage({ subject }), [inbox])
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const all = await json(`/api/addresses/${inbox}/messages`)
    expect(all.map((m: any) => m.subject)).toEqual(['third', 'second', 'first'])
    expect(all[0]).not.toHaveProperty('text')
    expect(all[0]).not.toHaveProperty('raw')
    expect(all[0]).toMatchObject({
      inbox,
      originalInbox: inbox,
      domain: 'example.com',
      attachments: null,
    })

    const page1 = await json(`/api/addresses/${inbox}/messages?limit=2`)
    expect(page1.map((m: any) => m.subject)).toEqual(['third', 'second'])
    const page2 = await json(`/api/addresses/${inbox}/messages?limit=2&until=${page1[1].received}`)
    expect(page2.map((m: any) => m.subject)).toEqual(['first'])
  })

  it('treats the address case-insensitively and keeps plus-addresses apart', async () => {
    await ingest(simpleMessage(), ['Case@Example.COM'])
    await ingest(simpleMessage(), ['case+tag@example.com'])
    expect(await json('/api/addresses/CASE@example.com/messages')).toHaveLength(1)
    expect(await json('/api/addresses/case+tag@example.com/messages')).toHaveLength(1)
  })

  it('answers 400 naming the field for a bad limit, until or address', async () => {
    const limit = await json('/api/addresses/a@example.com/messages?limit=1001', {}, 400)
    expect(limit.message).toMatch(/limit/)
    const until = await json('/api/addresses/a@example.com/messages?until=yesterday-ish', {}, 400)
    expect(until.message).toMatch(/until/)
    const address = await json('/api/addresses/not-an-address/messages', {}, 400)
    expect(address).toMatchObject({
      error: 'Bad Request',
      message: expect.stringContaining('not-an-address'),
    })
  })

  it('counts messages', async () => {
    await ingest(simpleMessage(), ['count@example.com'])
    await ingest(simpleMessage(), ['count@example.com'])
    expect(await json('/api/addresses/count@example.com/message-count')).toEqual({
      count: 2,
      inbox: 'count@example.com',
    })
  })
})

describe('GET /api/addresses/:email/messages/:messageId', () => {
  it('returns metadata, headers, text, html, sanitized body and raw', async () => {
    const [stored] = await ingest(fixture, ['full@example.com'])
    const message = await json(`/api/addresses/full@example.com/messages/${stored._id}`)
    expect(message).toMatchObject({
      _id: stored._id,
      subject: 'Page 2',
      from: [{ name: 'Tom Riddle', address: 'tomriddle@example.com' }],
      to: [{ name: 'Harry', address: 'test@example.com' }],
      cc: [{ name: '', address: 'ron@example.com' }],
      savedBy: null,
      size: fixture.length,
    })
    expect(message.headers['message-id']).toBe('<page2@example.com>')
    expect(message.headers.received).toHaveLength(2)
    expect(message.text).toContain('See the diary')
    expect(message.html).toContain('<script>')
    expect(message.body).not.toContain('<script')
    expect(message.raw).toBe(fixture)
  })

  it('answers 404 with an error body for an unknown id or a message of another inbox', async () => {
    const [stored] = await ingest(simpleMessage(), ['mine@example.com'])
    expect(await json('/api/addresses/mine@example.com/messages/nope-0', {}, 404)).toMatchObject({
      error: 'Not Found',
    })
    await json(`/api/addresses/yours@example.com/messages/${stored._id}`, {}, 404)
  })
})

describe('DELETE /api/addresses/:email/messages/:messageId', () => {
  it('removes the message and its raw bytes once no recipient row needs them', async () => {
    const [a, b] = await ingest(simpleMessage(), ['del-a@example.com', 'del-b@example.com'])
    const row = await env.DB.prepare('select pack_key as pack from messages where id = ?')
      .bind(a._id)
      .first<{ pack: string }>()
    const pack = row?.pack as string
    expect(await env.MAIL.head(pack)).not.toBeNull()

    const deleted = await json(`/api/addresses/del-a@example.com/messages/${a._id}`, {
      method: 'DELETE',
    })
    expect(deleted).toEqual({
      _id: a._id,
      inbox: 'del-a@example.com',
      message: 'Message was deleted.',
    })
    await json(`/api/addresses/del-a@example.com/messages/${a._id}`, {}, 404)
    // The other recipient's row shares the stored bytes: they must still be readable.
    const raw = await call(`/api/raw/del-b@example.com/${b._id}`)
    expect(await raw.text()).toContain('Subject: Hello')
    expect(await env.MAIL.head(pack)).not.toBeNull()

    await json(`/api/addresses/del-b@example.com/messages/${b._id}`, { method: 'DELETE' })
    expect(await env.MAIL.head(pack)).toBeNull()
  })

  it('keeps attachment bytes that another message still references', async () => {
    const [first] = await ingest(fixture, ['att-a@example.com'])
    const [second] = await ingest(fixture, ['att-b@example.com'])
    await json(`/api/addresses/att-a@example.com/messages/${first._id}`, { method: 'DELETE' })
    const logo = await call(
      `/api/addresses/att-b@example.com/messages/${second._id}/attachments/logo.png`,
    )
    expect(new Uint8Array(await logo.arrayBuffer())).toEqual(LOGO_PNG)
  })
})

describe('DELETE /api/addresses/:email/messages', () => {
  it('deletes every message but the starred ones', async () => {
    const account = await createAccount()
    const inbox = 'purge@example.com'
    const [keep] = await ingest(simpleMessage({ subject: 'keep' }), [inbox])
    await ingest(simpleMessage({ subject: 'drop' }), [inbox])
    await json(`/api/addresses/${inbox}/messages/${keep._id}/star`, {
      method: 'PUT',
      headers: account.headers,
    })
    const response = await call(`/api/addresses/${inbox}/messages`, { method: 'DELETE' })
    expect(response.status).toBe(204)
    const left = await json(`/api/addresses/${inbox}/messages`, { headers: account.headers })
    expect(left.map((m: any) => m.subject)).toEqual(['keep'])
  })
})

describe('PUT /api/addresses/:email/messages/:messageId/star', () => {
  it('toggles savedBy, lists the message as starred, and hides it from everyone else', async () => {
    const alice = await createAccount()
    const bob = await createAccount()
    const [stored] = await ingest(simpleMessage(), ['stars@example.com'])
    const path = `/api/addresses/stars@example.com/messages/${stored._id}`

    const starred = await json(`${path}/star`, { method: 'PUT', headers: alice.headers })
    expect(starred).toMatchObject({ _id: stored._id, savedBy: alice.id })
    expect(starred).not.toHaveProperty('raw')
    const list = await json('/api/addresses/starred/messages', { headers: alice.headers })
    expect(list.map((m: any) => m._id)).toEqual([stored._id])

    // Starred on a public inbox = private to the account that starred it.
    expect(await json('/api/addresses/stars@example.com/messages')).toEqual([])
    await json(path, { headers: bob.headers }, 404)
    await json(`/api/raw/stars@example.com/${stored._id}`, {}, 404)
    expect(await json('/api/addresses/starred/messages', { headers: bob.headers })).toEqual([])

    const unstarred = await json(`${path}/star`, { method: 'PUT', headers: alice.headers })
    expect(unstarred.savedBy).toBeNull()
    expect(await json('/api/addresses/starred/messages', { headers: alice.headers })).toEqual([])
  })

  it('needs an API key to list starred messages', async () => {
    await json('/api/addresses/starred/messages', {}, 401)
  })
})

describe('labels, folder and read', () => {
  it('sets and removes labels, moves folders and marks read', async () => {
    const [stored] = await ingest(simpleMessage(), ['organise@example.com'])
    const path = `/api/addresses/organise@example.com/messages/${stored._id}`
    expect(await json(`${path}/labels/business%20archive`, { method: 'PUT' })).toEqual({
      _id: stored._id,
      labels: ['business archive'],
    })
    expect(await json(`${path}/labels/work`, { method: 'PUT' })).toMatchObject({
      labels: ['business archive', 'work'],
    })
    expect(await json(`${path}/labels/work`, { method: 'DELETE' })).toMatchObject({
      labels: ['business archive'],
    })
    expect(await json(`${path}/labels/absent`, { method: 'DELETE' })).toMatchObject({
      labels: ['business archive'],
    })
    expect(await json(`${path}/folder/trash`, { method: 'PUT' })).toEqual({
      _id: stored._id,
      folder: 'trash',
    })
    await json(`${path}/folder/nowhere`, { method: 'PUT' }, 400)
    expect(await json(`${path}/read/true`, { method: 'PUT' })).toEqual({
      _id: stored._id,
      read: true,
      folder: true,
    })
    await json(`${path}/read/maybe`, { method: 'PUT' }, 400)
    expect(await json(path)).toMatchObject({
      labels: ['business archive'],
      folder: 'trash',
      read: true,
    })
  })
})

describe('GET .../headers and /api/headers', () => {
  it('returns headers grouped, ordered, plain, and the seed object', async () => {
    const [stored] = await ingest(fixture, ['headers@example.com'])
    const base = `/api/addresses/headers@example.com/messages/${stored._id}/headers`
    const grouped = await json(base)
    expect(grouped.received).toEqual([
      'from a.example by b.example; Thu, 02 Oct 2014 09:05:50 +0000',
      'from c.example by a.example; Thu, 02 Oct 2014 09:05:49 +0000',
    ])
    expect(grouped.subject).toEqual(['Page 2'])
    const ordered = await json(`${base}?messageHeadersFormat=json-ordered`)
    expect(ordered.slice(0, 2)).toEqual([
      { name: 'from', value: '"Tom Riddle" <tomriddle@example.com>' },
      { name: 'to', value: 'Harry <test@example.com>' },
    ])
    const plain = await call(`${base}?messageHeadersFormat=plain`)
    expect(await plain.text()).toContain('subject: Page 2\n')
    await json(`${base}?messageHeadersFormat=xml`, {}, 400)

    const seed = await json(`/api/headers/headers@example.com/${stored._id}`)
    expect(seed.subject).toBe('Page 2')
    expect(seed.received).toHaveLength(2)
  })
})

describe('GET /api/addresses/:email/messages/:messageId/attachments', () => {
  it('lists attachment metadata', async () => {
    const [stored] = await ingest(fixture, ['attmeta@example.com'])
    const list = await json(`/api/addresses/attmeta@example.com/messages/${stored._id}/attachments`)
    expect(list).toEqual([
      expect.objectContaining({
        fileName: 'logo.png',
        contentType: 'image/png',
        contentId: '<logo@example.com>',
        length: LOGO_PNG.length,
      }),
      expect.objectContaining({
        fileName: 'diary.pdf',
        contentType: 'application/pdf',
        length: 286,
      }),
    ])
    await json(
      `/api/addresses/attmeta@example.com/messages/${stored._id}/attachments/missing.txt`,
      {},
      404,
    )
  })
})

describe('errors', () => {
  it('answers an unknown route with a JSON 404', async () => {
    expect(await json('/api/nothing-here', {}, 404)).toMatchObject({ error: 'Not Found' })
  })
})
