import { describe, expect, it } from 'vitest'
import { ADMIN, call, createAccount, ingest, json, reserve, simpleMessage } from '../requests'

// The server side of the web pages: the session-cookie live feed, key rotation, the frame
// that shows a message's HTML, and the pages' security headers. The pages in a browser are
// tested in test/web (chromium).

const ORIGIN = 'http://mail.test'

/** Signs in through POST /api/auth/login; returns the session cookie. */
async function signIn(account: { id: string; apiKey: string }) {
  const response = await call('/api/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: account.id, apiKey: account.apiKey }),
  })
  expect(response.status).toBe(200)
  const cookie = response.headers.get('set-cookie') ?? ''
  return cookie.split(';')[0]
}

/** Opens a websocket and collects its frames. */
async function socket(query: string, headers: Record<string, string>) {
  const response = await call(`/incoming-messages?${query}`, {
    headers: { Upgrade: 'websocket', ...headers },
  })
  const ws = response.webSocket as WebSocket
  const frames: { status: number; msg?: string; email?: { subject: string } }[] = []
  ws.addEventListener('message', (event) => frames.push(JSON.parse(event.data as string)))
  ws.accept()
  const wait = async (check: () => boolean) => {
    const deadline = Date.now() + 3000
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  await wait(() => frames.length > 0)
  return { ws, frames, wait }
}

describe('the inbox page socket (?session=1)', () => {
  it('follows a private address with the owner’s session, enablews off, and API sockets do not get it', async () => {
    const owner = await createAccount()
    const inbox = 'web-live@example.com'
    await reserve(inbox, owner.apiKey)
    const cookie = await signIn(owner)
    const page = await socket(`addresses=${inbox}&session=1`, { Cookie: cookie, Origin: ORIGIN })
    expect(page.frames[0]).toMatchObject({ status: 200, msg: 'Listening' })
    // An API client with the key is still refused while enablews is off (Mailsac's rule).
    const api = await socket(`addresses=${inbox}&key=${owner.apiKey}`, {})
    expect(api.frames[0].status).toBe(403)

    await ingest(simpleMessage({ to: inbox, subject: 'To the page' }), [inbox])
    await page.wait(() => page.frames.some((frame) => frame.email))
    expect(page.frames.find((frame) => frame.email)?.email?.subject).toBe('To the page')
    page.ws.close()
  })

  it('refuses a session socket from another site, without a session, or for another’s inbox', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    const inbox = 'web-closed@example.com'
    await reserve(inbox, owner.apiKey)
    const cookie = await signIn(owner)
    const foreignSite = await socket(`addresses=${inbox}&session=1`, {
      Cookie: cookie,
      Origin: 'https://evil.example',
    })
    expect(foreignSite.frames[0].status).toBe(401)
    const noSession = await socket(`addresses=${inbox}&session=1`, { Origin: ORIGIN })
    expect(noSession.frames[0].status).toBe(401)
    const wrongAccount = await socket(`addresses=${inbox}&session=1`, {
      Cookie: await signIn(other),
      Origin: ORIGIN,
    })
    expect(wrongAccount.frames[0].status).toBe(403)
  })
})

describe('POST /api/me/api-key', () => {
  it('issues a new 64-character key and revokes the old one', async () => {
    const account = await createAccount()
    const { apiKey } = await json('/api/me/api-key', { method: 'POST', headers: account.headers })
    expect(apiKey).toMatch(/^[A-Za-z0-9]{64}$/)
    expect(apiKey).not.toBe(account.apiKey)
    expect((await json('/api/me', { headers: { 'Mailsac-Key': apiKey } }))._id).toBe(account.id)
    const old = await call('/api/addresses', { headers: account.headers })
    expect(old.status).toBe(401)
  })

  it('#13.10 ends every web session of the account; the page that rotated gets a fresh one', async () => {
    const account = await createAccount()
    const other = await signIn(account)
    const login = await call('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: account.id, apiKey: account.apiKey }),
    })
    const { csrfToken } = await login.json<{ csrfToken: string }>()
    const page = (login.headers.get('set-cookie') ?? '').split(';')[0]
    const me = (cookie: string) => json('/api/me', { headers: { Cookie: cookie } })
    expect((await me(other))._id).toBe(account.id)

    const rotated = await call('/api/me/api-key', {
      method: 'POST',
      headers: { Cookie: page, 'X-CSRF-Token': csrfToken },
    })
    expect(rotated.status).toBe(200)
    const answer = await rotated.json<{ apiKey: string; csrfToken: string }>()
    const fresh = (rotated.headers.get('set-cookie') ?? '').split(';')[0]
    expect(fresh).toMatch(/^mailsac_session=/)
    expect(fresh).not.toBe(page)
    expect(await me(other)).toBeNull()
    expect(await me(page)).toBeNull()
    expect((await me(fresh))._id).toBe(account.id)
    // The fresh session's CSRF token works for the next change from the page.
    const again = await call('/api/me/api-key', {
      method: 'POST',
      headers: { Cookie: fresh, 'X-CSRF-Token': answer.csrfToken },
    })
    expect(again.status).toBe(200)
  })

  it('#13.10 an operator rotation ends the account’s web sessions too', async () => {
    const account = await createAccount()
    const cookie = await signIn(account)
    await json(`/internal/admin/accounts/${account.id}/key`, { method: 'POST', headers: ADMIN })
    expect(await json('/api/me', { headers: { Cookie: cookie } })).toBeNull()
    const page = await call('/account', { headers: { Cookie: cookie }, redirect: 'manual' })
    expect(page.status).toBe(303)
  })

  it('#13.10 an API-key rotation ends the sessions and opens none', async () => {
    const account = await createAccount()
    const cookie = await signIn(account)
    const rotated = await call('/api/me/api-key', { method: 'POST', headers: account.headers })
    expect(rotated.headers.get('set-cookie')).toBeNull()
    expect(await rotated.json()).not.toHaveProperty('csrfToken')
    expect(await json('/api/me', { headers: { Cookie: cookie } })).toBeNull()
  })

  it('needs the CSRF token when a session cookie authenticates it', async () => {
    const account = await createAccount()
    const cookie = await signIn(account)
    const response = await call('/api/me/api-key', { method: 'POST', headers: { Cookie: cookie } })
    expect(response.status).toBe(403)
    // The key still works: nothing was rotated.
    expect((await json('/api/me', { headers: account.headers }))._id).toBe(account.id)
  })
})

describe('pages', () => {
  it('carry a CSP that allows only our own scripts, and embed the session’s CSRF token', async () => {
    const account = await createAccount()
    const cookie = await signIn(account)
    const response = await call('/account', { headers: { Cookie: cookie } })
    expect(response.status).toBe(200)
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    const html = await response.text()
    expect(html).toMatch(/<meta name="csrf-token" content="[^"]+"/)
    expect(html).toContain(account.id)
  })

  it('serve the message HTML frame sanitized, with images inlined, under a sandboxing CSP', async () => {
    const inbox = 'web-frame@example.com'
    const raw = [
      'From: a@example.org',
      `To: ${inbox}`,
      'Subject: frame',
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="rel"',
      '',
      '--rel',
      'Content-Type: text/html',
      '',
      '<p onclick="x()">Hi<img src="cid:dot@x"></p><script>window.pwned=1</script>',
      '--rel',
      'Content-Type: image/gif',
      'Content-ID: <dot@x>',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--rel--',
      '',
    ].join('\r\n')
    const [stored] = await ingest(raw, [inbox])
    const response = await call(`/inbox/${inbox}/${stored._id}/html`)
    expect(response.status).toBe(200)
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toMatch(/sandbox allow-popups/)
    expect(csp).not.toContain('allow-scripts')
    const html = await response.text()
    expect(html.trim()).toBe('<p>Hi<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></p>')
  })

  it('redirect the home page form to the inbox page, and refuse a bad address', async () => {
    const response = await call('/inbox?email=Someone@Example.com', { redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/inbox/someone@example.com')
    const bad = await call('/inbox?email=not-an-address')
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toContain('text/html')
  })
})

describe('the inbox page', () => {
  it('pages older mail with ?until= and keeps only the newest page live', async () => {
    const inbox = 'web-pages@example.com'
    const raws = Array.from({ length: 101 }, (_, i) =>
      simpleMessage({ to: inbox, subject: `Message ${i}` }),
    )
    for (const raw of raws) await ingest(raw, [inbox])
    const newest = await (await call(`/inbox/${inbox}`)).text()
    expect(newest).toContain('data-feed="public"')
    expect(newest.match(/class="message( unread)?"/g)).toHaveLength(100)
    const older = /href="(\/inbox\/[^"]+\?until=[^"]+)"/.exec(newest)?.[1]
    expect(older).toBeDefined()
    const rest = await (await call((older as string).replace(/&amp;/g, '&'))).text()
    expect(rest).toContain('data-feed="none"')
    expect(rest.match(/class="message( unread)?"/g)).toHaveLength(1)
    expect(rest).toContain('Message 0')
    const bad = await call(`/inbox/${inbox}?until=not-a-date`)
    expect(bad.status).toBe(400)
    expect(bad.headers.get('content-type')).toContain('text/html')
  })
})

describe('GET /login?next=', () => {
  it('#13.9 follows only same-origin paths after sign-in', async () => {
    const nextOf = async (next: string) => {
      const html = await (await call(`/login?next=${next}`)).text()
      const value = /data-next="([^"]*)"/.exec(html)?.[1] ?? ''
      return value
        .replace(/&amp;/g, '&')
        .replace(/&#39;/g, "'")
        .replace(/&quot;/g, '"')
    }
    for (const next of [
      '/%5Cevil.example/phish',
      '/%09/evil.example',
      '/%0a/evil.example',
      '//evil.example',
      '/.//evil.example',
      'https://evil.example/',
      '%2F%2Fevil.example',
    ]) {
      const target = await nextOf(next)
      // Where the page's location.assign(target) would go.
      expect(new URL(target, ORIGIN).origin, `${next} -> ${target}`).toBe(ORIGIN)
      expect(target.startsWith('/') && !target.startsWith('//'), target).toBe(true)
    }
    expect(await nextOf(encodeURIComponent('/inbox/a@x.test?until=5#m'))).toBe(
      '/inbox/a@x.test?until=5#m',
    )
  })
})
