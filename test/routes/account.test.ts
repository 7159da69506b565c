import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ingestMessage } from '../../src/mail/inbound/ingest'
import {
  ADMIN,
  call,
  createAccount,
  ingest,
  json,
  latin1,
  reserve,
  simpleMessage,
} from '../requests'

async function addDomain(domain: string, account: string) {
  return json('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain, account }),
  })
}

describe('messageLimit', () => {
  it('recycles the oldest unstarred private messages, never starred ones, and counts them', async () => {
    const owner = await createAccount({ messageLimit: 3 })
    await reserve('capped@limit.test', owner.apiKey)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const [stored] = await ingestMessage(
        env,
        latin1(simpleMessage({ subject: `m${i}` })),
        { from: 'a@example.org', to: ['capped@limit.test'] },
        new Date(Date.UTC(2026, 0, 1, 0, i)),
      )
      ids.push(stored._id)
    }
    // Star the oldest: it must survive recycling.
    await json(`/api/addresses/capped@limit.test/messages/${ids[0]}/star`, {
      method: 'PUT',
      headers: owner.headers,
    })
    await ingest(simpleMessage({ subject: 'm3' }), ['capped@limit.test'])
    await ingest(simpleMessage({ subject: 'm4' }), ['capped@limit.test'])
    const left = await json('/api/addresses/capped@limit.test/messages', { headers: owner.headers })
    expect(left.map((m: { subject: string }) => m.subject)).toEqual(['m4', 'm3', 'm0'])
    const stats = await json('/api/me/stats', { headers: owner.headers })
    expect(stats).toMatchObject({ storedMessages: 3, starredMessages: 1, recycledMessages: 2 })
  })

  it('leaves public inboxes alone', async () => {
    await createAccount({ messageLimit: 1 })
    await ingest(simpleMessage(), ['free@limit.test'])
    await ingest(simpleMessage(), ['free@limit.test'])
    expect(await json('/api/addresses/free@limit.test/messages')).toHaveLength(2)
  })
})

describe('PUT /api/addresses/:email and /api/private-address-forwarding/:email', () => {
  it('stores forwarding settings and clears them with "" or null', async () => {
    const owner = await createAccount()
    await reserve('fwd@settings.test', owner.apiKey)
    const updated = await json('/api/addresses/fwd@settings.test', {
      method: 'PUT',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        forward: 'Bill@Example.com',
        enablews: true,
        webhook: 'https://hooks.example.com/mail',
        webhookSlack: 'https://hooks.slack.com/services/x',
        webhookSlackToFrom: true,
        info: 'signup tests',
      }),
    })
    expect(updated).toMatchObject({
      _id: 'fwd@settings.test',
      forward: 'bill@example.com',
      enablews: true,
      webhook: 'https://hooks.example.com/mail',
      webhookSlackToFrom: true,
      info: 'signup tests',
    })
    const cleared = await json('/api/private-address-forwarding/fwd@settings.test', {
      method: 'PUT',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ forward: '', webhook: null }),
    })
    expect(cleared).toMatchObject({ forward: null, webhook: null, enablews: true })
  })

  it('refuses a bad forward address, a non-https webhook, a private webhook host and foreign addresses', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    await reserve('strict@settings.test', owner.apiKey)
    const put = (body: unknown, headers = owner.headers) =>
      call('/api/addresses/strict@settings.test', {
        method: 'PUT',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
    for (const [body, field] of [
      [{ forward: 'not-an-address' }, 'forward'],
      [{ webhook: 'http://hooks.example.com/x' }, 'webhook'],
      [{ webhook: 'http://127.0.0.1:9000/x' }, 'webhook'],
      [{ webhook: 'ftp://example.com' }, 'webhook'],
      [{ enablews: 'yes' }, 'enablews'],
    ] as const) {
      const response = await put(body)
      expect(response.status).toBe(400)
      expect((await response.json<{ message: string }>()).message).toContain(field)
    }
    expect((await put({ enablews: true }, other.headers)).status).toBe(401)
    expect(
      (
        await call('/api/addresses/unreserved@settings.test', {
          method: 'PUT',
          headers: { ...owner.headers, 'Content-Type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(400)
  })
})

describe('POST /api/private-addresses-bulk', () => {
  it('reserves what it can and reports each address', async () => {
    const owner = await createAccount({ privateAddressCredits: 2 })
    const other = await createAccount()
    await reserve('taken@bulk.test', other.apiKey)
    const results = await json('/api/private-addresses-bulk', {
      method: 'POST',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        addresses: [
          'one@bulk.test',
          'taken@bulk.test',
          'bad address',
          'two@bulk.test',
          'one@bulk.test',
        ],
      }),
    })
    expect(
      results.map((r: { _id: string; owner?: string; error?: string }) => [
        r._id,
        r.owner ?? r.error,
      ]),
    ).toEqual([
      ['one@bulk.test', owner.id],
      ['taken@bulk.test', 'Unauthorized'],
      ['bad address', 'Bad Request'],
      ['two@bulk.test', owner.id],
      ['one@bulk.test', 'Bad Request'],
    ])
    expect(results[4].message).toMatch(/already own/)
  })

  it('answers 400 and reserves none with too few credits (issue #16 item 4)', async () => {
    const owner = await createAccount({ privateAddressCredits: 2 })
    const response = await call('/api/private-addresses-bulk', {
      method: 'POST',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        addresses: ['a@bulk-short.test', 'b@bulk-short.test', 'c@bulk-short.test'],
      }),
    })
    expect(response.status).toBe(400)
    expect(await json('/api/addresses', { headers: owner.headers })).toEqual([])
    // The credits are untouched: two single reservations still succeed.
    await reserve('a@bulk-short.test', owner.apiKey)
    await reserve('b@bulk-short.test', owner.apiKey)
  })
})

describe('DELETE /api/addresses/:email?deleteAddressMessages=true', () => {
  it('deletes the mail with the address; without it the mail becomes public', async () => {
    const owner = await createAccount()
    await reserve('purge@release.test', owner.apiKey)
    await reserve('keep@release.test', owner.apiKey)
    await ingest(simpleMessage(), ['purge@release.test', 'keep@release.test'])
    await json('/api/addresses/purge@release.test?deleteAddressMessages=true', {
      method: 'DELETE',
      headers: owner.headers,
    })
    await json('/api/addresses/keep@release.test', { method: 'DELETE', headers: owner.headers })
    expect(await json('/api/addresses/purge@release.test/messages')).toEqual([])
    expect(await json('/api/addresses/keep@release.test/messages')).toHaveLength(1)
  })
})

describe('GET /api/me recents', () => {
  it('lists the inboxes the account opened, newest first', async () => {
    const account = await createAccount()
    for (const inbox of ['r1@recent.test', 'r2@recent.test', 'r1@recent.test']) {
      await json(`/api/addresses/${inbox}/messages`, { headers: account.headers })
    }
    // The list route records recents after answering (waitUntil): poll for up to 2 s rather
    // than sleep a fixed time, which a loaded machine can outrun.
    await expect
      .poll(async () => (await json('/api/me', { headers: account.headers })).recents, {
        timeout: 2000,
        interval: 20,
      })
      .toEqual(['r1@recent.test', 'r2@recent.test'])
  })
})

describe('owned domains', () => {
  it('makes every address at the domain private to its owner (catch-all)', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    await addDomain('owned.test', owner.id)
    await ingest(simpleMessage({ subject: 'to the domain' }), ['anything@owned.test'])
    await json('/api/addresses/anything@owned.test/messages', {}, 401)
    await json('/api/addresses/anything@owned.test/messages', { headers: other.headers }, 401)
    const [message] = await json('/api/addresses/anything@owned.test/messages', {
      headers: owner.headers,
    })
    expect(message.subject).toBe('to the domain')
    expect(await json('/api/addresses/anything@owned.test/availability')).toMatchObject({
      owned: true,
    })
    expect(
      await json('/api/addresses/anything@owned.test', { headers: owner.headers }),
    ).toMatchObject({
      owner: owner.id,
      implicit: true,
      catchAll: 'owned.test',
    })
    // Another account cannot reserve an address at someone else's domain.
    await json('/api/addresses/mine@owned.test', { method: 'POST', headers: other.headers }, 401)
  })

  it('lists domains and their messages and deletes all of a domain’s mail', async () => {
    const owner = await createAccount()
    await addDomain('list.test', owner.id)
    await ingest(simpleMessage({ subject: 'a' }), ['x@list.test'])
    await ingest(simpleMessage({ subject: 'b' }), ['y@list.test'])
    expect(
      (await json('/api/domains', { headers: owner.headers })).map((d: { _id: string }) => d._id),
    ).toEqual(['list.test'])
    expect(await json('/api/domains/list.test', { headers: owner.headers })).toMatchObject({
      domain: { _id: 'list.test' },
      totalMessages: 2,
    })
    const messages = await json('/api/domains/list.test/messages', { headers: owner.headers })
    expect(messages.map((m: { subject: string }) => m.subject)).toEqual(['b', 'a'])
    const response = await call('/api/domains/list.test/delete-all-domain-mail', {
      method: 'POST',
      headers: owner.headers,
    })
    expect(response.status).toBe(204)
    expect((await json('/api/domains/list.test', { headers: owner.headers })).totalMessages).toBe(0)
  })
})

describe('account-wide views', () => {
  it('GET /api/inbox pages the account’s mail with the unread count', async () => {
    const owner = await createAccount()
    await reserve('view@views.test', owner.apiKey)
    const stored = await ingest(simpleMessage({ subject: 'one' }), ['view@views.test'])
    await ingest(simpleMessage({ subject: 'two' }), ['view@views.test'])
    await ingest(simpleMessage({ subject: 'public' }), ['public@views.test'])
    await json(`/api/addresses/view@views.test/messages/${stored[0]._id}/read/true`, {
      method: 'PUT',
      headers: owner.headers,
    })
    const page = await json('/api/inbox?limit=1', { headers: owner.headers })
    expect(page).toMatchObject({ unread: 1, limit: 1, skip: 0 })
    expect(page.messages.map((m: { subject: string }) => m.subject)).toEqual(['two'])
    const next = await json('/api/inbox?limit=1&skip=1', { headers: owner.headers })
    expect(next.messages.map((m: { subject: string }) => m.subject)).toEqual(['one'])
  })

  it('inbox-filter ANDs and inbox-search ORs subject, from and to', async () => {
    const owner = await createAccount()
    await reserve('search@views.test', owner.apiKey)
    const message = (subject: string, from: string) =>
      [`From: ${from}`, 'To: search@views.test', `Subject: ${subject}`, '', 'body', ''].join('\r\n')
    await ingest(message('Invoice 100%', 'billing@shop.test'), ['search@views.test'])
    await ingest(message('Welcome', 'hello@shop.test'), ['search@views.test'])
    await ingest(message('Invoice reminder', 'alerts@bank.test'), ['search@views.test'])
    const and = await json('/api/inbox-filter?andSubjectIncludes=invoice&andFrom=shop.test', {
      headers: owner.headers,
    })
    expect(and.messages.map((m: { subject: string }) => m.subject)).toEqual(['Invoice 100%'])
    const percent = await json('/api/inbox-filter?andSubjectIncludes=100%25', {
      headers: owner.headers,
    })
    expect(percent.messages).toHaveLength(1)
    await json('/api/inbox-filter', { headers: owner.headers }, 400)
    const or = await json('/api/inbox-search?query=bank', { headers: owner.headers })
    expect(or).toMatchObject({ query: 'bank' })
    expect(or.messages.map((m: { subject: string }) => m.subject)).toEqual(['Invoice reminder'])
    const byTo = await json('/api/inbox-search?query=search@views', { headers: owner.headers })
    expect(byTo.messages).toHaveLength(3)
  })
})

describe('cookie sessions', () => {
  it('logs in with username + API key, sets a safe cookie, and needs the CSRF token to change state', async () => {
    const account = await createAccount()
    const login = await call('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: account.id, apiKey: account.apiKey }),
    })
    expect(login.status).toBe(200)
    const cookie = login.headers.get('set-cookie') as string
    expect(cookie).toMatch(/mailsac_session=[A-Za-z0-9]{48}/)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Lax/)
    expect(cookie).toMatch(/Secure/)
    const { csrfToken } = await login.json<{ csrfToken: string }>()
    const session = { Cookie: cookie.split(';')[0] }

    expect((await json('/api/me', { headers: session }))._id).toBe(account.id)
    const noToken = await call('/api/addresses/cookie@session.test', {
      method: 'POST',
      headers: session,
    })
    expect(noToken.status).toBe(403)
    const wrongToken = await call('/api/addresses/cookie@session.test', {
      method: 'POST',
      headers: { ...session, 'X-CSRF-Token': 'x'.repeat(32) },
    })
    expect(wrongToken.status).toBe(403)
    const withToken = await call('/api/addresses/cookie@session.test', {
      method: 'POST',
      headers: { ...session, 'X-CSRF-Token': csrfToken },
    })
    expect(withToken.status).toBe(200)

    const logout = await call('/api/auth/logout', { method: 'POST', headers: session })
    expect(logout.headers.get('set-cookie')).toMatch(/mailsac_session=;/)
    expect(await json('/api/me', { headers: session })).toBeNull()
  })

  it('does not mark the cookie Secure on localhost, where the dev stack is plain http', async () => {
    const account = await createAccount()
    const response = await fetchLocal('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: account.id, apiKey: account.apiKey }),
    })
    expect(response.headers.get('set-cookie')).not.toMatch(/Secure/)
  })
})

async function fetchLocal(path: string, init: RequestInit) {
  const { exports } = await import('cloudflare:workers')
  return exports.default.fetch(new Request(`http://127.0.0.1:8787${path}`, init))
}
