// Issue #13 items 1-4: private stays private when an address, a domain or an account changes
// hands. Each transition is checked over every read path that could leak: the REST lists,
// counts, search, stats and single-message routes, the web pages, the websocket and the mail
// stats (POP3 reads through the same REST routes with the owner's key).
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../src/app'
import { database } from '../../src/db/client'
import { findMessage } from '../../src/db/queries/messages'
import { ADMIN, call, createAccount, ingest, json, reserve, simpleMessage } from '../requests'

type Listed = { _id: string; inbox: string; savedBy: string | null }

const today = () => {
  const start = new Date(Date.now() - 86_400_000).toISOString()
  const end = new Date(Date.now() + 86_400_000).toISOString()
  return `startDate=${start}&endDate=${end}`
}

async function deliver(to: string, subject = 'Private') {
  const [stored] = await ingest(simpleMessage({ to, subject }), [to])
  return stored._id
}

async function claimDomain(domain: string, account: string) {
  return call('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain, account }),
  })
}

async function star(inbox: string, id: string, headers: Record<string, string>) {
  await json(`/api/addresses/${inbox}/messages/${id}/star`, { method: 'PUT', headers })
}

describe('#13.1 a reservation and a domain claim never share an inbox', () => {
  it('refuses to give a domain to B while A holds a reservation there, and A keeps its mail', async () => {
    const a = await createAccount()
    const b = await createAccount()
    await reserve('ceo@corp1.example', a.apiKey)
    const id = await deliver('ceo@corp1.example')

    const refused = await claimDomain('corp1.example', b.id)
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({ message: expect.stringMatching(/reserved/) })

    // B owns nothing there: no domain view, and A's message is A's alone.
    expect((await call('/api/domains/corp1.example/messages', { headers: b.headers })).status).toBe(
      401,
    )
    expect(JSON.stringify(await json('/api/inbox', { headers: b.headers }))).not.toContain(id)
    expect(
      (await json<Listed[]>('/api/addresses/ceo@corp1.example/messages', { headers: a.headers }))[0]
        ._id,
    ).toBe(id)

    // Once A releases the address, the claim goes through.
    await json('/api/addresses/ceo@corp1.example', { method: 'DELETE', headers: a.headers })
    expect((await claimDomain('corp1.example', b.id)).status).toBe(200)
  })

  it('keeps a message starred by C out of every view of the domain owner B, and B cannot delete it', async () => {
    const b = await createAccount()
    const c = await createAccount()
    const starred = await deliver('promo@corp2.example', 'Starred by C')
    await star('promo@corp2.example', starred, c.headers)
    const other = await deliver('sales@corp2.example', 'Public until the claim')
    expect((await claimDomain('corp2.example', b.id)).status).toBe(200)

    const domainList = await json<Listed[]>('/api/domains/corp2.example/messages', {
      headers: b.headers,
    })
    expect(domainList.map((m) => m._id)).toEqual([other])
    const detail = await json<{ totalMessages: number }>('/api/domains/corp2.example', {
      headers: b.headers,
    })
    expect(detail.totalMessages).toBe(1)
    const inbox = await json<{ messages: Listed[] }>('/api/inbox', { headers: b.headers })
    expect(JSON.stringify(inbox)).not.toContain(starred)
    const search = await json<unknown>('/api/inbox-search?query=Starred', { headers: b.headers })
    expect(JSON.stringify(search)).not.toContain(starred)
    const stats = await json<{ storedMessages: number }>('/api/me/stats', { headers: b.headers })
    expect(stats.storedMessages).toBe(1)
    // The inbox itself is B's now, but the starred message is still C's.
    const promo = await json<Listed[]>('/api/addresses/promo@corp2.example/messages', {
      headers: b.headers,
    })
    expect(promo).toEqual([])
    expect(
      (await call(`/api/addresses/promo@corp2.example/messages/${starred}`, { headers: b.headers }))
        .status,
    ).toBe(404)
    expect(
      (await call(`/inbox/promo@corp2.example/${starred}`, { headers: b.headers })).status,
    ).toBe(404)

    const deleted = await call('/api/domains/corp2.example/delete-all-domain-mail', {
      method: 'POST',
      headers: b.headers,
    })
    expect(deleted.status).toBe(204)
    const [row] = await findMessage(database(env.DB), 'promo@corp2.example', starred)
    expect(row?.savedBy).toBe(c.id)
    expect(
      (await call(`/api/addresses/promo@corp2.example/messages/${starred}`, { headers: c.headers }))
        .status,
    ).toBe(200)
  })

  it('refuses to reserve an address this service does not receive mail for', async () => {
    const a = await createAccount()
    const restricted = { ...env, ACCEPTED_DOMAINS: 'served.example' }
    const reserveAt = (email: string) =>
      app.fetch(
        new Request(`http://mail.test/api/addresses/${email}`, {
          method: 'POST',
          headers: { 'Mailsac-Key': a.apiKey },
        }),
        restricted,
      )
    const outside = await reserveAt('me@elsewhere.example')
    expect(outside.status).toBe(400)
    expect(await outside.json()).toMatchObject({
      message: expect.stringMatching(/does not receive/),
    })
    expect((await reserveAt('me@served.example')).status).toBe(200)
  })
})

describe('#13.2 removing an account or a domain deletes its private mail', () => {
  it('deletes a deleted account’s mail and storage: not public, not in stats, not inherited', async () => {
    const a = await createAccount()
    await reserve('secret@gone.example', a.apiKey)
    const id = await deliver('secret@gone.example')
    const starredElsewhere = await deliver('public@gone2.example')
    await star('public@gone2.example', starredElsewhere, a.headers)
    const [row] = await findMessage(database(env.DB), 'secret@gone.example', id)
    expect(await env.MAIL.head(row.packKey)).not.toBeNull()

    const removed = await call(`/internal/admin/accounts/${a.id}`, {
      method: 'DELETE',
      headers: ADMIN,
    })
    expect(removed.status).toBe(200)

    expect(await json<Listed[]>('/api/addresses/secret@gone.example/messages')).toEqual([])
    expect((await call(`/api/addresses/secret@gone.example/messages/${id}`)).status).toBe(404)
    expect((await call(`/api/raw/secret@gone.example/${id}`)).status).toBe(404)
    expect((await call(`/inbox/secret@gone.example/${id}`)).status).toBe(404)
    expect(await json<Listed[]>('/api/addresses/public@gone2.example/messages')).toEqual([])
    const top = await json<{ _id: string }[]>(`/api/mailstats/top-addresses?${today()}&limit=1000`)
    expect(top.map((t) => t._id)).not.toContain('secret@gone.example')
    expect(await env.MAIL.head(row.packKey)).toBeNull()

    const next = await createAccount()
    await reserve('secret@gone.example', next.apiKey)
    expect(
      await json<Listed[]>('/api/addresses/secret@gone.example/messages', {
        headers: next.headers,
      }),
    ).toEqual([])
  })

  it('deletes a removed domain’s catch-all mail, keeps reserved inboxes private', async () => {
    const b = await createAccount()
    expect((await claimDomain('owned3.example', b.id)).status).toBe(200)
    await reserve('kept@owned3.example', b.apiKey)
    const catchAll = await deliver('anyone@owned3.example')
    const kept = await deliver('kept@owned3.example')

    const removed = await call('/internal/admin/domains/owned3.example', {
      method: 'DELETE',
      headers: ADMIN,
    })
    expect(removed.status).toBe(200)

    expect(await json<Listed[]>('/api/addresses/anyone@owned3.example/messages')).toEqual([])
    expect((await call(`/api/addresses/anyone@owned3.example/messages/${catchAll}`)).status).toBe(
      404,
    )
    // The reservation outlives the domain, and its mail stays its owner's.
    expect((await call('/api/addresses/kept@owned3.example/messages')).status).toBe(401)
    const own = await json<Listed[]>('/api/addresses/kept@owned3.example/messages', {
      headers: b.headers,
    })
    expect(own.map((m) => m._id)).toEqual([kept])
  })
})

describe('#13.3 a starred message stays with who starred it, whoever reserves the inbox later', () => {
  it('hides C’s starred message from A after A reserves the inbox, and C keeps reading it', async () => {
    const a = await createAccount()
    const c = await createAccount()
    const id = await deliver('shared@star.example', 'Starred by C')
    const plain = await deliver('shared@star.example', 'Not starred')
    await star('shared@star.example', id, c.headers)
    await reserve('shared@star.example', a.apiKey)

    const listed = await json<Listed[]>('/api/addresses/shared@star.example/messages', {
      headers: a.headers,
    })
    expect(listed.map((m) => m._id)).toEqual([plain])
    const count = await json<{ count: number }>(
      '/api/addresses/shared@star.example/message-count',
      {
        headers: a.headers,
      },
    )
    expect(count.count).toBe(1)
    const path = `/api/addresses/shared@star.example/messages/${id}`
    expect((await call(path, { headers: a.headers })).status).toBe(404)
    expect((await call(`${path}/star`, { method: 'PUT', headers: a.headers })).status).toBe(404)
    expect((await call(path, { method: 'DELETE', headers: a.headers })).status).toBe(404)
    expect((await call(`/api/text/shared@star.example/${id}`, { headers: a.headers })).status).toBe(
      404,
    )
    expect((await call(`/inbox/shared@star.example/${id}`, { headers: a.headers })).status).toBe(
      404,
    )

    // C can no longer open the inbox (it is A's), but her starred message is hers.
    const own = await json<Listed[]>('/api/addresses/starred/messages', { headers: c.headers })
    expect(own.map((m) => m._id)).toEqual([id])
  })
})

describe('#13.4 webhook history belongs to the account that configured it', () => {
  it('shows the next owner none of the previous owner’s deliveries', async () => {
    const b = await createAccount()
    const a = await createAccount()
    await reserve('hooks@history.example', b.apiKey)
    await json('/api/addresses/hooks@history.example', {
      method: 'PUT',
      headers: { ...b.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhook: 'https://receiver.example.com/b-secret-hook' }),
    })
    await deliver('hooks@history.example')
    const before = await json<unknown[]>(
      '/api/addresses/hooks@history.example/webhook-deliveries',
      {
        headers: b.headers,
      },
    )
    expect(before).toHaveLength(1)
    await json('/api/addresses/hooks@history.example?deleteAddressMessages=true', {
      method: 'DELETE',
      headers: b.headers,
    })

    await reserve('hooks@history.example', a.apiKey)
    const after = await json<unknown[]>('/api/addresses/hooks@history.example/webhook-deliveries', {
      headers: a.headers,
    })
    expect(after).toEqual([])
    expect(JSON.stringify(after)).not.toContain('b-secret-hook')
  })
})

describe('reserve over the websocket', () => {
  it('stops sending an inbox’s mail to its public socket once someone reserves it', async () => {
    const a = await createAccount()
    const response = await call('/incoming-messages?addresses=watched@ws-transition.example', {
      headers: { Upgrade: 'websocket' },
    })
    expect(response.status).toBe(101)
    const socket = response.webSocket as WebSocket
    const frames: { email?: { subject: string } }[] = []
    socket.addEventListener('message', (event) => frames.push(JSON.parse(event.data as string)))
    socket.accept()
    for (let i = 0; i < 50 && !frames.length; i++) await new Promise((r) => setTimeout(r, 20))

    await deliver('watched@ws-transition.example', 'Public mail')
    for (let i = 0; i < 50 && !frames.some((f) => f.email); i++) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(frames.filter((f) => f.email).map((f) => f.email?.subject)).toEqual(['Public mail'])

    await reserve('watched@ws-transition.example', a.apiKey)
    await deliver('watched@ws-transition.example', 'Private mail')
    await new Promise((r) => setTimeout(r, 300))
    expect(frames.filter((f) => f.email).map((f) => f.email?.subject)).toEqual(['Public mail'])
    socket.close()
  })
})
