// The web pages in Debian's chromium: live inbox, message tabs, no script from mail, star and
// delete, and private inboxes closed to visitors.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const web =
  /** @type {{url: string, adminToken: string, ingestToken: string, screenshots: string}} */ (
    inject(/** @type {any} */ ('web'))
  )

/** @type {import('playwright-core').Browser} */
let browser

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  })
})
afterAll(async () => {
  await browser?.close()
})

const address = (prefix) => `${prefix}-${randomBytes(4).toString('hex')}@web-test.example`

async function createAccount() {
  const username = `web-${randomBytes(4).toString('hex')}`
  const response = await fetch(`${web.url}/internal/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${web.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, privateAddressCredits: 10 }),
  })
  expect(response.ok, await response.clone().text()).toBe(true)
  const { apiKey } = await response.json()
  return { username, apiKey }
}

async function ingest(to, { subject, html, text = 'Plain text part.' }) {
  const boundary = `b-${randomBytes(6).toString('hex')}`
  const raw = [
    'From: Web Sender <web-sender@example.org>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${randomBytes(6).toString('hex')}@example.org>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    html ?? `<h2>${subject}</h2><p>HTML part.</p>`,
    `--${boundary}--`,
    '',
  ].join('\r\n')
  const query = new URLSearchParams({ from: 'web-sender@example.org', to, ip: '127.0.0.1' })
  const response = await fetch(`${web.url}/internal/ingest?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${web.ingestToken}` },
    body: raw,
  })
  expect(response.status, await response.clone().text()).toBe(200)
  const body = await response.json()
  return body.messages[0]._id
}

async function reserve(email, apiKey) {
  const response = await fetch(`${web.url}/api/addresses/${email}`, {
    method: 'POST',
    headers: { 'Mailsac-Key': apiKey },
  })
  expect(response.status).toBe(200)
}

/** A browser tab signed in as `account` through the login page. */
async function signedIn(account) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${web.url}/login?next=/account`)
  await page.fill('#username', account.username)
  await page.fill('#apiKey', account.apiKey)
  await page.click('#login button[type=submit]')
  await page.waitForURL(`${web.url}/account`)
  return page
}

const shot = (page, name) =>
  page.screenshot({ path: join(web.screenshots, `${name}.png`), fullPage: true })

describe('inbox page', () => {
  it('shows new mail as it arrives, without polling or reloading', async () => {
    const inbox = address('live')
    await ingest(inbox, { subject: 'Already here' })
    const page = await browser.newPage()
    const requests = []
    page.on('request', (request) => requests.push(request.url()))
    await page.goto(`${web.url}/inbox/${inbox}`)
    await expect.poll(() => page.evaluate(() => document.body.dataset.live)).toBe('open')
    await expect(page.locator('.message .subject').allTextContents()).resolves.toEqual([
      'Already here',
    ])
    // A flag on the window survives only if the page is never reloaded.
    await page.evaluate(() => {
      window.__sameDocument = true
    })
    const before = requests.length

    await ingest(inbox, { subject: 'Arrived live' })
    await page
      .locator('.message .subject', { hasText: 'Arrived live' })
      .waitFor({ timeout: 10_000 })
    expect(await page.locator('.message .subject').allTextContents()).toEqual([
      'Arrived live',
      'Already here',
    ])
    expect(await page.evaluate(() => window.__sameDocument)).toBe(true)
    // Nothing was fetched to show it: it came over the websocket.
    expect(requests.slice(before)).toEqual([])
    await shot(page, 'inbox')
    await page.close()
  })
})

describe('inbox page buttons', () => {
  it('deletes every unstarred message with "Delete all unstarred"', async () => {
    const inbox = address('clear')
    await ingest(inbox, { subject: 'First' })
    await ingest(inbox, { subject: 'Second' })
    const page = await browser.newPage()
    await page.goto(`${web.url}/inbox/${inbox}`)
    expect(await page.locator('.message').count()).toBe(2)
    page.once('dialog', (dialog) => dialog.accept())
    await page.click('[data-action="delete-all"]')
    await expect.poll(() => page.locator('.message').count()).toBe(0)
    const count = await fetch(`${web.url}/api/addresses/${inbox}/message-count`).then((r) =>
      r.json(),
    )
    expect(count.count).toBe(0)
    await page.close()
  })
})

describe('message page', () => {
  it('renders the HTML tab in a sandboxed frame and the text tab', async () => {
    const inbox = address('view')
    const id = await ingest(inbox, {
      subject: 'Tabs',
      html: '<h2>Hello in HTML</h2><p style="color: green">styled</p>',
      text: 'Hello in plain text.',
    })
    const page = await browser.newPage()
    await page.goto(`${web.url}/inbox/${inbox}`)
    await page.click(`[data-id="${id}"] a`)
    await page.waitForURL(`${web.url}/inbox/${inbox}/${id}`)
    const frameElement = page.locator('iframe.html')
    expect(await frameElement.getAttribute('sandbox')).toBe(
      'allow-popups allow-popups-to-escape-sandbox',
    )
    const frame = page.frameLocator('iframe.html')
    await expect(frame.locator('h2').textContent()).resolves.toBe('Hello in HTML')
    await expect(frame.locator('p').evaluate((p) => getComputedStyle(p).color)).resolves.toBe(
      'rgb(0, 128, 0)',
    )
    await shot(page, 'message-html')

    await page.click('[data-tab="text"]')
    await expect(page.locator('[data-panel="text"] pre').textContent()).resolves.toContain(
      'Hello in plain text.',
    )
    expect(await page.locator('[data-panel="html"]').isHidden()).toBe(true)
    await page.click('[data-tab="headers"]')
    await expect(page.locator('.headers').textContent()).resolves.toContain('Tabs')
    await shot(page, 'message-text')
    await page.close()
  })

  it('runs no script and no event handler from the mail', async () => {
    const inbox = address('xss')
    const id = await ingest(inbox, {
      subject: 'Hostile',
      html:
        '<p>hostile</p>' +
        '<script>window.__pwned = "script"; try { parent.__pwned = "script" } catch (e) {}</script>' +
        '<img src="data:image/gif;base64,broken" onerror="window.__pwned = \'onerror\'; try { parent.__pwned = \'onerror\' } catch (e) {}">' +
        '<a href="javascript:window.__pwned=1">link</a>',
    })
    const page = await browser.newPage()
    const dialogs = []
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message())
      dialog.dismiss()
    })
    await page.goto(`${web.url}/inbox/${inbox}/${id}`)
    const frame = page.frameLocator('iframe.html')
    await frame.locator('p', { hasText: 'hostile' }).waitFor()
    // Give a handler time to fire if one survived.
    await page.waitForTimeout(500)
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined()
    const child = page.frames().find((f) => f !== page.mainFrame())
    expect(child).toBeDefined()
    expect(await child.evaluate(() => window.__pwned)).toBeUndefined()
    expect(await child.evaluate(() => document.querySelectorAll('script').length)).toBe(0)
    expect(await frame.locator('img').getAttribute('onerror')).toBeNull()
    expect(await frame.locator('a').getAttribute('href')).toBeNull()
    expect(dialogs).toEqual([])
    await page.close()
  })

  it('stars, then deletes, through the buttons', async () => {
    const account = await createAccount()
    const inbox = address('buttons')
    const id = await ingest(inbox, { subject: 'Keep me' })
    const page = await signedIn(account)
    await page.goto(`${web.url}/inbox/${inbox}/${id}`)
    const star = page.locator('.actions [data-action="star"]')
    await star.click()
    await expect.poll(() => star.getAttribute('aria-pressed')).toBe('true')
    const starred = await fetch(`${web.url}/api/addresses/${inbox}/messages/${id}`, {
      headers: { 'Mailsac-Key': account.apiKey },
    }).then((r) => r.json())
    expect(starred.savedBy).toBe(account.username)

    page.once('dialog', (dialog) => dialog.accept())
    await page.click('.actions [data-action="delete"]')
    await page.waitForURL(`${web.url}/inbox/${inbox}`)
    expect(await page.locator(`[data-id="${id}"]`).count()).toBe(0)
    const gone = await fetch(`${web.url}/api/addresses/${inbox}/messages/${id}`, {
      headers: { 'Mailsac-Key': account.apiKey },
    })
    expect(gone.status).toBe(404)
    await page.context().close()
  })
})

describe('private inbox', () => {
  it('refuses a visitor and shows its owner the mail, live', async () => {
    const owner = await createAccount()
    const inbox = address('private')
    await reserve(inbox, owner.apiKey)
    const id = await ingest(inbox, { subject: 'For the owner only' })

    const visitor = await browser.newPage()
    const response = await visitor.goto(`${web.url}/inbox/${inbox}`)
    expect(response.status()).toBe(401)
    expect(await visitor.content()).not.toContain('For the owner only')
    const message = await visitor.goto(`${web.url}/inbox/${inbox}/${id}`)
    expect(message.status()).toBe(401)
    const frame = await visitor.goto(`${web.url}/inbox/${inbox}/${id}/html`)
    expect(frame.status()).toBe(401)
    expect(await visitor.content()).not.toContain('For the owner only')
    // Nor does the live feed open for the visitor, even asking for the session feed.
    const refusal = await visitor.evaluate(
      (url) =>
        new Promise((resolve) => {
          const socket = new WebSocket(url)
          socket.onmessage = (event) => resolve(JSON.parse(event.data))
        }),
      `${web.url.replace('http', 'ws')}/incoming-messages?addresses=${inbox}&session=1`,
    )
    expect(refusal.status).toBe(401)
    await visitor.close()

    const page = await signedIn(owner)
    await page.goto(`${web.url}/inbox/${inbox}`)
    await expect(page.locator('.message .subject').allTextContents()).resolves.toEqual([
      'For the owner only',
    ])
    await expect.poll(() => page.evaluate(() => document.body.dataset.live)).toBe('open')
    await ingest(inbox, { subject: 'Second private message' })
    await page.locator('.message .subject', { hasText: 'Second private message' }).waitFor()
    await page.context().close()
  })
})

describe('account page', () => {
  it('reserves and releases addresses and regenerates the API key', async () => {
    const account = await createAccount()
    const page = await signedIn(account)
    const email = address('reserved')
    await page.fill('#reserve input[name=email]', email)
    await page.click('#reserve button')
    await page.locator(`[data-email="${email}"]`).waitFor()
    const availability = await fetch(`${web.url}/api/addresses/${email}/availability`).then((r) =>
      r.json(),
    )
    expect(availability.owned).toBe(true)
    await shot(page, 'account')

    page.once('dialog', (dialog) => dialog.accept())
    await page.click(`[data-email="${email}"] [data-action="release"]`)
    await expect.poll(() => page.locator(`[data-email="${email}"]`).count()).toBe(0)
    await expect
      .poll(() => fetch(`${web.url}/api/addresses/${email}/availability`).then((r) => r.json()))
      .toMatchObject({ owned: false })

    page.once('dialog', (dialog) => dialog.accept())
    await page.click('[data-action="rotate-key"]')
    await page.locator('output.secret').waitFor()
    const shown = await page.locator('output.secret').textContent()
    const newKey = /([A-Za-z0-9]{64})/.exec(shown)?.[1]
    expect(newKey, `shown: ${shown}`).toBeDefined()
    const me = (key) =>
      fetch(`${web.url}/api/me`, { headers: { 'Mailsac-Key': key } }).then((r) => r.json())
    expect((await me(newKey))._id).toBe(account.username)
    expect(await me(account.apiKey)).toBeNull()
    await page.context().close()
  })
})

describe('every page', () => {
  it('loads under 100 KB of script and fits a phone screen without sideways scrolling', async () => {
    const account = await createAccount()
    const inbox = address('phone')
    const id = await ingest(inbox, {
      subject: 'A rather long subject line that should wrap or be cut on a small screen',
      html: '<table width="900"><tr><td>A wide newsletter table</td></tr></table>',
    })
    const page = await signedIn(account)
    await page.setViewportSize({ width: 390, height: 844 })
    for (const [name, path] of [
      ['home', '/'],
      ['inbox-phone', `/inbox/${inbox}`],
      ['message-phone', `/inbox/${inbox}/${id}`],
      ['account-phone', '/account'],
      ['login', '/login'],
    ]) {
      await page.goto(`${web.url}${path}`, { waitUntil: 'networkidle' })
      // Every script the page loaded (modules and their imports), cached or not, measured by
      // fetching each again.
      const scripts = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .map((entry) => entry.name)
          .filter((name) => new URL(name).pathname.endsWith('.js')),
      )
      let scriptBytes = 0
      for (const url of new Set(scripts)) {
        scriptBytes += (await (await fetch(url)).arrayBuffer()).byteLength
      }
      expect(scriptBytes, `${path} script bytes`).toBeGreaterThan(0)
      expect(scriptBytes, `${path} script bytes`).toBeLessThan(100 * 1024)
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      )
      expect(overflow, `${path} overflows a phone screen by ${overflow}px`).toBeLessThanOrEqual(0)
      await shot(page, name)
    }
    await page.context().close()
  })
})
