import { describe, expect, it } from 'vitest'
import { code, createClient, links, MailClientError, type Message } from '../src/index'
import { inboxFixtures } from '../src/playwright'

type Route = (url: URL, init: RequestInit) => Response | undefined

/** A fetch that answers from `routes` and records every request. */
function stubFetch(...routes: Route[]) {
  const calls: { url: URL; headers: Headers }[] = []
  const fetcher = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input))
    calls.push({ url, headers: new Headers(init.headers) })
    for (const route of routes) {
      const response = route(url, init)
      if (response) return response
    }
    return Response.json({ error: 'Not Found', message: 'No route' }, { status: 404 })
  }) as typeof fetch
  return { fetcher, calls }
}

const message = (fields: Partial<Message> = {}): Message => ({
  _id: 'm1',
  inbox: 'a@example.com',
  subject: 'Verify your email',
  from: [{ name: 'Acme', address: 'no-reply@acme.example' }],
  to: [{ name: '', address: 'a@example.com' }],
  received: '2026-12-01T10:00:00.000Z',
  ...fields,
})

describe('createClient', () => {
  it('makes fresh unique inboxes on the domain', () => {
    const client = createClient({ baseUrl: 'http://x', domain: 'test.example' })
    const a = client.newInbox()
    expect(a).toMatch(/^test-[0-9a-f]{16}@test\.example$/)
    expect(client.newInbox()).not.toBe(a)
  })

  it('waits server-side with the filter in the query and the key in Mailsac-Key', async () => {
    const { fetcher, calls } = stubFetch((url) =>
      url.pathname === '/api/addresses/a%40example.com/wait' ||
      url.pathname === '/api/addresses/a@example.com/wait'
        ? Response.json([message({ codes: ['482913'] })])
        : undefined,
    )
    const client = createClient({
      baseUrl: 'http://x/',
      apiKey: 'k1',
      domain: 'example.com',
      fetch: fetcher,
    })
    const since = new Date('2026-12-01T09:00:00Z')
    const found = await client.waitForMessage(
      'a@example.com',
      {
        subject: 'verify',
        since,
        headers: { 'X-Campaign': 'signup' },
        hasCode: true,
        regex: /code: \d+/i,
      },
      { timeout: 7 },
    )
    expect(code(found)).toBe('482913')
    const query = calls[0].url.searchParams
    expect(calls).toHaveLength(1)
    expect(calls[0].headers.get('Mailsac-Key')).toBe('k1')
    expect(Object.fromEntries(query)).toEqual({
      subject: 'verify',
      since: String(since.getTime()),
      header: 'X-Campaign:signup',
      hasCode: '1',
      regex: '/code: \\d+/i',
      timeout: '7',
      count: '1',
    })
  })

  it('turns a 408 into a MailClientError with the server message', async () => {
    const { fetcher } = stubFetch(() =>
      Response.json({ error: 'Request Timeout', message: 'Timed out after 1 s' }, { status: 408 }),
    )
    const client = createClient({ baseUrl: 'http://x', domain: 'example.com', fetch: fetcher })
    const failure = await client.waitForMessage('a@example.com', {}, { timeout: 1 }).catch((e) => e)
    expect(failure).toBeInstanceOf(MailClientError)
    expect(failure).toMatchObject({ status: 408, message: '408: Timed out after 1 s' })
  })

  it('falls back to polling the message list where there is no wait route (mailsac.com)', async () => {
    let listed = 0
    const { fetcher, calls } = stubFetch((url) => {
      if (url.pathname.endsWith('/messages')) {
        listed++
        // The matching message shows up on the second poll.
        return Response.json(
          listed < 2
            ? [message({ _id: 'old', subject: 'Welcome', received: '2026-12-01T08:00:00.000Z' })]
            : [message({ _id: 'new' }), message({ _id: 'old', subject: 'Welcome' })],
        )
      }
      if (url.pathname.endsWith('/messages/new')) {
        return Response.json(message({ _id: 'new', text: 'Your verification code is 551234.' }))
      }
      return undefined
    })
    const client = createClient({
      baseUrl: 'https://mailsac.com',
      domain: 'mailsac.com',
      fetch: fetcher,
      pollInterval: 1,
    })
    const found = await client.waitForMessage('a@mailsac.com', { subject: 'verify' })
    expect(found._id).toBe('new')
    expect(code(found)).toBe('551234')
    expect(calls[0].url.pathname).toMatch(/\/wait$/)
    // Once detected, no more wait calls.
    await client.waitForMessage('a@mailsac.com', { subject: 'verify' })
    expect(calls.filter((c) => c.url.pathname.endsWith('/wait'))).toHaveLength(1)
  })

  it('latest: the newest match, null on "No message matches"', async () => {
    const { fetcher } = stubFetch((url) =>
      url.searchParams.get('subject') === 'none'
        ? Response.json({ error: 'Not Found', message: 'No message matches.' }, { status: 404 })
        : Response.json(message({ _id: 'newest' })),
    )
    const client = createClient({ baseUrl: 'http://x', domain: 'example.com', fetch: fetcher })
    expect((await client.latest('a@example.com'))?._id).toBe('newest')
    expect(await client.latest('a@example.com', { subject: 'none' })).toBeNull()
  })
})

describe('links and code', () => {
  it('reads the links field, or the links of the text when there is none', () => {
    expect(links(message({ links: ['https://a.example/1'] }))).toEqual(['https://a.example/1'])
    expect(links(message({ text: 'Go to https://a.example/verify?t=1. Thanks' }))).toEqual([
      'https://a.example/verify?t=1',
    ])
  })

  it('prefers the service codes, else a number near a code word, never a year alone', () => {
    expect(code(message({ codes: ['111111', '222222'] }))).toBe('111111')
    expect(code(message({ subject: 'Hi', text: 'Your PIN: 4821. © 2026' }))).toBe('4821')
    expect(code(message({ subject: 'News', text: 'Our 2026 catalogue' }))).toBeNull()
  })
})

describe('inboxFixtures (Playwright)', () => {
  it('gives each test a client and a fresh inbox on the domain', async () => {
    const fixtures = inboxFixtures({ baseUrl: 'http://x', domain: 'pw.example' })
    let client: ReturnType<typeof createClient> | undefined
    await fixtures.mail({}, async (value) => void (client = value))
    const inboxes: string[] = []
    for (let i = 0; i < 2; i++) {
      await fixtures.inbox({ mail: client! }, async (value) => void inboxes.push(value))
    }
    expect(inboxes[0]).toMatch(/@pw\.example$/)
    expect(inboxes[0]).not.toBe(inboxes[1])
  })
})
