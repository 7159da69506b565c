import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { app } from '../../src/app'
import fixture from '../fixtures/inline-and-attachment.eml?raw'
import { DIARY_PDF, md5 } from '../fixture-bytes'
import { ADMIN, call, createAccount, ingest, INGEST, json, reserve } from '../requests'

// Every route of the service and who may use it. The first test fails when a route exists
// that this table does not list, so a new route cannot ship without its access rules.
//
// kinds:
//   inbox     a route on an inbox (and message): tried on a private address, an address at an
//             owned domain and a public address, as the owner, another account, no key and a
//             bad key
//   account   the caller's own data: needs a valid key, never shows another account's data
//   anyone    public information: any caller, but a bad key is still a 401
//   open      outside /api (the reference page): reads no key, so even a bad one is a 200
//   internal  operator routes: a bearer token, never an API key
//   websocket the live feed: private addresses for their owner's key only, refused in a frame
//   page      a web page anyone may open (the pages of inboxes are `inbox` routes above): any
//             caller gets the page or a redirect, a bad key is still a 401
// Each request in this file costs more than the one before: an anonymous GET /api/limits takes
// 8 ms at the first test and about 600 ms by the last (measured 2026-12-03, already so at
// 9250bd7; workerd busy at ~75% CPU throughout, RSS steady, cause not found). The whole file runs
// for about 170 s, and its heaviest test (a dozen requests) came to 5.5 s on a loaded machine, so
// the timeout here is 30 s instead of 5.
vi.setConfig({ testTimeout: 30_000 })

/** An address for the `GET /inbox?email=` page route. */
const PUBLIC_PAGE = 'matrix-page@example.com'
/** A date range covering every test message (mailstats routes require one). */
const RANGE = 'startDate=2000-01-01&endDate=2100-01-01'

type Kind = 'inbox' | 'account' | 'anyone' | 'open' | 'internal' | 'session' | 'websocket' | 'page'
type Entry = {
  kind: Kind
  /** For inbox routes: the path for an inbox, a message id and an attachment. */
  path?: (inbox: string, id: string) => string
  /** For anyone routes: the query string they need to answer 200. */
  query?: string
  /** An inbox route that also needs a key on a public inbox (star). */
  needsAccount?: boolean
  /** What a route that reads the caller's own data answers to "no key" (GET /api/me: null). */
  anonymousStatus?: number
  body?: unknown
}

const inbox = (path: string, extra: Partial<Entry> = {}): Entry => ({
  kind: 'inbox',
  path: (email, id) => path.replace(':email', email).replace(':messageId', id),
  ...extra,
})

const TABLE: Record<string, Entry> = {
  'GET /api/addresses/starred/messages': { kind: 'account' },
  'GET /api/addresses/:email/messages': inbox('/api/addresses/:email/messages'),
  'DELETE /api/addresses/:email/messages': inbox('/api/addresses/:email/messages'),
  'GET /api/addresses/:email/message-count': inbox('/api/addresses/:email/message-count'),
  'GET /api/addresses/:email/wait': inbox('/api/addresses/:email/wait?timeout=1'),
  'GET /api/addresses/:email/latest': inbox('/api/addresses/:email/latest'),
  'GET /api/addresses/:email/messages/:messageId/extract': inbox(
    '/api/addresses/:email/messages/:messageId/extract',
  ),
  'GET /api/addresses/:email/messages/:messageId': inbox(
    '/api/addresses/:email/messages/:messageId',
  ),
  'DELETE /api/addresses/:email/messages/:messageId': inbox(
    '/api/addresses/:email/messages/:messageId',
  ),
  'PUT /api/addresses/:email/messages/:messageId/star': inbox(
    '/api/addresses/:email/messages/:messageId/star',
    { needsAccount: true },
  ),
  'GET /api/addresses/:email/messages/:messageId/headers': inbox(
    '/api/addresses/:email/messages/:messageId/headers',
  ),
  'GET /api/addresses/:email/messages/:messageId/attachments': inbox(
    '/api/addresses/:email/messages/:messageId/attachments',
  ),
  'GET /api/addresses/:email/messages/:messageId/attachments/:attachmentIdentifier': inbox(
    '/api/addresses/:email/messages/:messageId/attachments/diary.pdf',
  ),
  'PUT /api/addresses/:email/messages/:messageId/labels/:label': inbox(
    '/api/addresses/:email/messages/:messageId/labels/work',
  ),
  'DELETE /api/addresses/:email/messages/:messageId/labels/:label': inbox(
    '/api/addresses/:email/messages/:messageId/labels/work',
  ),
  'PUT /api/addresses/:email/messages/:messageId/folder/:folder': inbox(
    '/api/addresses/:email/messages/:messageId/folder/spam',
  ),
  'PUT /api/addresses/:email/messages/:messageId/read/:readBoolean': inbox(
    '/api/addresses/:email/messages/:messageId/read/true',
  ),
  'GET /api/headers/:email/:messageId': inbox('/api/headers/:email/:messageId'),
  'GET /api/body/:email/:messageId': inbox('/api/body/:email/:messageId'),
  'GET /api/dirty/:email/:messageId': inbox('/api/dirty/:email/:messageId'),
  'GET /api/text/:email/:messageId': inbox('/api/text/:email/:messageId'),
  'GET /api/raw/:email/:messageId': inbox('/api/raw/:email/:messageId'),
  'GET /api/addresses': { kind: 'account' },
  'GET /api/addresses/:email/availability': { kind: 'anyone' },
  'GET /api/limits': { kind: 'anyone' },
  'GET /api/openapi.json': { kind: 'anyone' },
  'GET /docs': { kind: 'open' },
  'GET /api/mailstats/top-addresses': { kind: 'anyone', query: RANGE },
  'GET /api/mailstats/top-senders': { kind: 'anyone', query: RANGE },
  'GET /api/mailstats/top-domains': { kind: 'anyone', query: RANGE },
  'GET /api/mailstats/common-attachments': { kind: 'anyone', query: RANGE },
  'GET /api/mailstats/common-attachments/:md5sum': { kind: 'anyone' },
  'GET /api/mailstats/common-attachments/:md5sum/count': { kind: 'anyone' },
  'GET /api/mailstats/common-attachments/:md5sum/download': { kind: 'anyone' },
  'GET /api/mailstats/blacklist': { kind: 'anyone' },
  'GET /api/mailstats/blacklist/:domainOrIP': { kind: 'anyone' },
  'GET /internal/admin/denylist': { kind: 'internal' },
  'POST /internal/admin/denylist/:entry': { kind: 'internal' },
  'PUT /internal/admin/denylist/:entry': { kind: 'internal' },
  'DELETE /internal/admin/denylist/:entry': { kind: 'internal' },
  'GET /api/addresses/:email': { kind: 'inbox', path: (email) => `/api/addresses/${email}` },
  'POST /api/addresses/:email': { kind: 'account' },
  'PUT /api/addresses/:email': { kind: 'account' },
  'DELETE /api/addresses/:email': { kind: 'account' },
  'PUT /api/private-address-forwarding/:email': { kind: 'account' },
  'POST /api/private-addresses-bulk': { kind: 'account' },
  'GET /api/me': { kind: 'account', anonymousStatus: 200 },
  'GET /api/me/stats': { kind: 'account' },
  'GET /api/domains': { kind: 'account' },
  'GET /api/domains/:domain': { kind: 'account' },
  'GET /api/domains/:domain/messages': { kind: 'account' },
  'POST /api/domains/:domain/delete-all-domain-mail': { kind: 'account' },
  'POST /api/domains/:domain/verify': { kind: 'account' },
  'GET /api/inbox': { kind: 'account' },
  'GET /api/inbox-filter': { kind: 'account' },
  'GET /api/inbox-search': { kind: 'account' },
  'POST /api/outgoing-messages': { kind: 'account' },
  'GET /api/validations/addresses/:email': { kind: 'account' },
  'POST /api/validations/addresses': { kind: 'account' },
  'POST /api/auth/login': { kind: 'session' },
  'POST /api/auth/logout': { kind: 'session' },
  'POST /internal/ingest': { kind: 'internal' },
  'POST /internal/ingest/batch': { kind: 'internal' },
  'GET /internal/faults': { kind: 'internal' },
  'PUT /internal/faults': { kind: 'internal' },
  'DELETE /internal/faults': { kind: 'internal' },
  'POST /internal/admin/accounts': { kind: 'internal' },
  'GET /internal/admin/accounts/:username': { kind: 'internal' },
  'POST /internal/admin/accounts/:username/key': { kind: 'internal' },
  'DELETE /internal/admin/accounts/:username': { kind: 'internal' },
  'PUT /internal/admin/accounts/:username/sends': { kind: 'internal' },
  'POST /internal/admin/domains': { kind: 'internal' },
  'GET /internal/admin/domains/:domain': { kind: 'internal' },
  'GET /internal/admin/domains': { kind: 'internal' },
  'GET /internal/admin/migrations': { kind: 'internal' },
  'POST /internal/admin/domains/:domain/verify': { kind: 'internal' },
  'PUT /internal/admin/domains/:domain/sending': { kind: 'internal' },
  'DELETE /internal/admin/domains/:domain': { kind: 'internal' },
  'GET /api/addresses/:email/webhook-deliveries': { kind: 'account' },
  'GET /incoming-messages': { kind: 'websocket' },
  'POST /api/me/api-key': { kind: 'account' },
  'POST /api/addresses/:email/webhook-secret': { kind: 'account' },
  'GET /': { kind: 'page' },
  'GET /login': { kind: 'page' },
  'GET /account': { kind: 'page' },
  'GET /inbox': { kind: 'page', query: `email=${PUBLIC_PAGE}` },
  'GET /inbox/:email': inbox('/inbox/:email'),
  'GET /inbox/:email/:messageId': inbox('/inbox/:email/:messageId'),
  'GET /inbox/:email/:messageId/html': inbox('/inbox/:email/:messageId/html'),
}

/** The routes the app really serves (middleware entries excluded). */
function servedRoutes(): string[] {
  const handlers = app.routes.filter((route) => route.method !== 'ALL')
  return [...new Set(handlers.map((route) => `${route.method} ${route.path}`))].sort()
}

let owner: Awaited<ReturnType<typeof createAccount>>
let other: Awaited<ReturnType<typeof createAccount>>
const BAD_KEY = { 'Mailsac-Key': 'Z'.repeat(64) }
const PRIVATE = 'matrix-private@example.com'
const DOMAIN_ADDRESS = 'anyone@matrix-owned.test'
const PUBLIC = 'matrix-public@example.com'

beforeAll(async () => {
  owner = await createAccount()
  other = await createAccount()
  await reserve(PRIVATE, owner.apiKey)
  // Public mail carrying the fixture's attachment, and a deny-list entry, for the stats routes.
  await ingest(fixture, ['matrix-stats@example.com'])
  await json('/internal/admin/denylist/denied-by-matrix.test', { method: 'POST', headers: ADMIN })
  await json('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain: 'matrix-owned.test', account: owner.id }),
  })
})

async function freshMessage(address: string) {
  const [stored] = await ingest(fixture, [address])
  return stored._id
}

describe('authorization matrix', () => {
  it('lists every route the app serves, and only those', () => {
    expect(Object.keys(TABLE).sort()).toEqual(servedRoutes())
  })

  for (const [route, entry] of Object.entries(TABLE).filter(([, e]) => e.kind === 'inbox')) {
    const method = route.split(' ')[0]
    for (const [label, address] of [
      ['a private address', PRIVATE],
      ['an address at an owned domain', DOMAIN_ADDRESS],
    ] as const) {
      it(`${route} on ${label}: owner yes; other account, no key, bad key 401`, async () => {
        const path = entry.path as NonNullable<Entry['path']>
        const ownerResponse = await call(path(address, await freshMessage(address)), {
          method,
          headers: owner.headers,
        })
        expect(ownerResponse.status, await ownerResponse.clone().text()).toBeLessThan(300)
        for (const headers of [other.headers, {}, BAD_KEY]) {
          const id = await freshMessage(address)
          const response = await call(path(address, id), { method, headers })
          expect(response.status).toBe(401)
          // Nothing leaked in the refusal.
          expect(await response.text()).not.toContain('Page 2')
        }
      })
    }

    it(`${route} on a public address: anyone${entry.needsAccount ? ' with a key' : ''}; bad key 401`, async () => {
      const path = entry.path as NonNullable<Entry['path']>
      for (const headers of [owner.headers, other.headers, {}]) {
        const response = await call(path(PUBLIC, await freshMessage(PUBLIC)), { method, headers })
        const expected = entry.needsAccount && !('Mailsac-Key' in headers) ? 401 : 200
        if (expected === 401) expect(response.status).toBe(401)
        else expect(response.status, await response.clone().text()).toBeLessThan(300)
      }
      const bad = await call(path(PUBLIC, await freshMessage(PUBLIC)), { method, headers: BAD_KEY })
      expect(bad.status).toBe(401)
    })
  }

  for (const [route, entry] of Object.entries(TABLE).filter(([, e]) => e.kind === 'account')) {
    it(`${route}: needs a valid key (no key ${entry.anonymousStatus ?? 401}, bad key ${entry.anonymousStatus ?? 401})`, async () => {
      const [method, template] = route.split(' ')
      const path = template
        .replace(':email', 'matrix-account@example.com')
        .replace(':domain', 'matrix-owned.test')
      for (const headers of [{}, BAD_KEY]) {
        const response = await call(path, { method, headers })
        expect(response.status).toBe(entry.anonymousStatus ?? 401)
        if (entry.anonymousStatus === 200) expect(await response.json()).toBeNull()
      }
    })
  }

  for (const [route, entry] of Object.entries(TABLE).filter(([, e]) => e.kind === 'anyone')) {
    it(`${route}: anyone, but a bad key is 401`, async () => {
      const [method, template] = route.split(' ')
      const path =
        template
          .replace(':email', PRIVATE)
          .replace(':md5sum', await md5(DIARY_PDF))
          .replace(':domainOrIP', 'denied-by-matrix.test') + (entry.query ? `?${entry.query}` : '')
      expect((await call(path, { method })).status).toBe(200)
      expect((await call(path, { method, headers: other.headers })).status).toBe(200)
      expect((await call(path, { method, headers: BAD_KEY })).status).toBe(401)
    })
  }

  for (const [route, entry] of Object.entries(TABLE).filter(([, e]) => e.kind === 'page')) {
    it(`${route}: a page or a redirect for anyone, but a bad key is 401`, async () => {
      const [method, path] = route.split(' ')
      const url = path + (entry.query ? `?${entry.query}` : '')
      for (const headers of [{}, other.headers]) {
        const response = await call(url, { method, headers, redirect: 'manual' })
        expect([200, 303]).toContain(response.status)
      }
      expect((await call(url, { method, headers: BAD_KEY })).status).toBe(401)
    })
  }

  for (const [route] of Object.entries(TABLE).filter(([, e]) => e.kind === 'open')) {
    it(`${route}: anyone, whatever key comes with it`, async () => {
      const [method, path] = route.split(' ')
      for (const headers of [{}, other.headers, BAD_KEY]) {
        expect((await call(path, { method, headers })).status).toBe(200)
      }
    })
  }

  for (const [route] of Object.entries(TABLE).filter(([, e]) => e.kind === 'internal')) {
    it(`${route}: refuses API keys and wrong tokens`, async () => {
      const [method, template] = route.split(' ')
      const path = template
        .replace(':username', owner.id)
        .replace(':domain', 'matrix-owned.test')
        .replace(':entry', 'matrix.test')
      const attempts: Record<string, string>[] = [
        owner.headers,
        { Authorization: `Bearer ${owner.apiKey}` },
        {},
      ]
      for (const headers of attempts) {
        const response = await call(path, { method, headers })
        expect(response.status).toBe(401)
      }
    })
  }

  it('GET /incoming-messages: private addresses refused to other accounts, no key and a bad key', async () => {
    const firstFrame = async (query: Record<string, string>) => {
      const response = await call(`/incoming-messages?${new URLSearchParams(query)}`, {
        headers: { Upgrade: 'websocket' },
      })
      const socket = response.webSocket as WebSocket
      const frame = new Promise<{ status: number }>((resolve) =>
        socket.addEventListener('message', (event) => resolve(JSON.parse(event.data as string))),
      )
      socket.accept()
      const result = await frame
      socket.close()
      return result.status
    }
    for (const address of [PRIVATE, DOMAIN_ADDRESS]) {
      expect(await firstFrame({ key: other.apiKey, addresses: address })).toBe(403)
      expect(await firstFrame({ addresses: address })).toBe(403)
      expect(await firstFrame({ key: BAD_KEY['Mailsac-Key'], addresses: address })).toBe(401)
    }
    expect(await firstFrame({ key: owner.apiKey, addresses: DOMAIN_ADDRESS })).toBe(200)
    expect(await firstFrame({ addresses: PUBLIC })).toBe(200)
  })

  it('domain routes refuse another account’s domain', async () => {
    for (const [method, path] of [
      ['GET', '/api/domains/matrix-owned.test'],
      ['GET', '/api/domains/matrix-owned.test/messages'],
      ['POST', '/api/domains/matrix-owned.test/delete-all-domain-mail'],
    ]) {
      expect((await call(path, { method, headers: other.headers })).status).toBe(401)
      expect((await call(path, { method, headers: owner.headers })).status).toBeLessThan(300)
    }
    expect(await json('/api/domains', { headers: other.headers })).toEqual([])
  })

  it('keeps private mail out of other accounts’ lists, counts, search, stats and starred lists', async () => {
    await ingest(fixture, [PRIVATE, DOMAIN_ADDRESS])
    const privateCount = await json(`/api/addresses/${PRIVATE}/message-count`, {
      headers: owner.headers,
    })
    expect(privateCount.count).toBeGreaterThan(0)
    const search = await json('/api/inbox-search?query=Page', { headers: other.headers })
    expect(search.messages).toEqual([])
    const inboxView = await json('/api/inbox', { headers: other.headers })
    expect(inboxView.messages).toEqual([])
    // (The other account starred public messages above; only those may show.)
    const stats = await json('/api/me/stats', { headers: other.headers })
    expect(stats).toMatchObject({ storedMessages: 0, addresses: [], domains: [] })
    expect(stats.nonOwnedInboxes).toEqual([PUBLIC])
    const starred = await json('/api/addresses/starred/messages', { headers: other.headers })
    expect(starred.map((m: { inbox: string }) => m.inbox)).toEqual(starred.map(() => PUBLIC))
    const ownerStats = await json('/api/me/stats', { headers: owner.headers })
    expect(ownerStats.storedMessages).toBeGreaterThan(0)
    expect(ownerStats.addresses).toEqual([PRIVATE])
    expect(ownerStats.domains).toEqual(['matrix-owned.test'])
    const ownerSearch = await json('/api/inbox-search?query=Page', { headers: owner.headers })
    expect(ownerSearch.messages.length).toBeGreaterThan(0)
    // Attachment bytes of private mail are not reachable through another account's key.
    const [stored] = await ingest(fixture, [PRIVATE])
    const attachment = await call(
      `/api/addresses/${PRIVATE}/messages/${stored._id}/attachments/diary.pdf`,
      {
        headers: other.headers,
      },
    )
    expect(attachment.status).toBe(401)
  })

  it('the session routes work without a key and need the right credentials', async () => {
    const response = await call('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: other.id, apiKey: owner.apiKey }),
    })
    expect(response.status).toBe(401)
    const logout = await call('/api/auth/logout', { method: 'POST' })
    expect(logout.status).toBe(200)
  })

  it('keeps the tables this test reads', async () => {
    // Guards against a silent schema change making the checks above vacuous.
    const row = await env.DB.prepare('select count(*) as n from domains where owner = ?')
      .bind(owner.id)
      .first<{ n: number }>()
    expect(row?.n).toBe(1)
    expect(INGEST.Authorization).toMatch(/^Bearer /)
  })
})
