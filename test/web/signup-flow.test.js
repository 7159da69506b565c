// #17.5: the client's Playwright flow as a CI test. A sign-up page served here (node:http)
// makes the local stack receive an email (through /internal/ingest, as the SMTP bridge does)
// with a 6-digit code and a verification link; chromium fills the form, the client waits for
// the email, the test types the code and follows the link.
import { randomInt } from 'node:crypto'
import { createServer } from 'node:http'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { createClient } from '../../client/src/index.ts'

const web =
  /** @type {{url: string, adminToken: string, ingestToken: string, screenshots: string}} */ (
    inject(/** @type {any} */ ('web'))
  )

/** @type {import('playwright-core').Browser} */
let browser
/** @type {import('node:http').Server} */
let app
let appUrl = ''
/** Codes and tokens the app issued, by address. */
const pending = new Map()

const page = (body) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Acme</title></head><body>${body}</body></html>`

/** What the app under test sends: a real MIME message with both parts. */
function signUpMail(to, code, link) {
  return [
    'From: Acme <no-reply@acme.example>',
    `To: ${to}`,
    'Subject: Confirm your Acme account',
    `Message-ID: <${randomInt(1e9)}@acme.example>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Your verification code is ${code}.`,
    `Or confirm with this link: ${link}`,
    'Acme Inc, 1200 Market Street, San Francisco, CA 94107. (c) 2026',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Your verification code is <b>${code}</b>.</p><p><a href="${link}">Confirm my email</a></p>`,
    `<p><a href="http://acme.example/unsubscribe">Unsubscribe</a></p>`,
    '--b--',
    '',
  ].join('\r\n')
}

async function readForm(request) {
  let body = ''
  for await (const chunk of request) body += chunk
  return new URLSearchParams(body)
}

beforeAll(async () => {
  app = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', appUrl)
    const html = (status, body) => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
      response.end(page(body))
    }
    if (request.method === 'GET' && url.pathname === '/') {
      return html(
        200,
        '<form method="post" action="/signup"><input name="email" type="email"><button>Sign up</button></form>',
      )
    }
    if (request.method === 'POST' && url.pathname === '/signup') {
      const email = (await readForm(request)).get('email') ?? ''
      const code = String(randomInt(100000, 1000000))
      const token = String(randomInt(1e9))
      pending.set(email, { code, token })
      const query = new URLSearchParams({ from: 'no-reply@acme.example', to: email })
      const sent = await fetch(`${web.url}/internal/ingest?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${web.ingestToken}` },
        body: signUpMail(
          email,
          code,
          `${appUrl}/confirm?email=${encodeURIComponent(email)}&token=${token}`,
        ),
      })
      if (!sent.ok) return html(500, `Mail failed: ${await sent.text()}`)
      return html(
        200,
        `<form method="post" action="/verify"><input type="hidden" name="email" value="${email}"><input name="code" inputmode="numeric"><button>Verify</button></form>`,
      )
    }
    if (request.method === 'POST' && url.pathname === '/verify') {
      const form = await readForm(request)
      const ok = pending.get(form.get('email'))?.code === form.get('code')
      return html(
        ok ? 200 : 400,
        ok ? '<h1 id="result">Code accepted</h1>' : '<h1 id="result">Wrong code</h1>',
      )
    }
    if (request.method === 'GET' && url.pathname === '/confirm') {
      const ok = pending.get(url.searchParams.get('email'))?.token === url.searchParams.get('token')
      return html(
        ok ? 200 : 400,
        ok ? '<h1 id="result">Email confirmed</h1>' : '<h1 id="result">Bad link</h1>',
      )
    }
    html(404, 'Not found')
  })
  await new Promise((resolve) => app.listen(0, '127.0.0.1', () => resolve(undefined)))
  const address = /** @type {import('node:net').AddressInfo} */ (app.address())
  appUrl = `http://127.0.0.1:${address.port}`
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  })
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => (app ? app.close(() => resolve(undefined)) : resolve(undefined)))
})

it('signs up in chromium, reads the code from the email with the client, types it and follows the link', async () => {
  const mail = createClient({ baseUrl: web.url, domain: 'web-test.example' })
  const inbox = mail.newInbox('signup')
  const started = new Date()
  const context = await browser.newContext()
  const tab = await context.newPage()
  try {
    await tab.goto(appUrl)
    await tab.fill('input[name=email]', inbox)
    await tab.click('button')
    await tab.waitForSelector('input[name=code]')

    const message = await mail.waitForMessage(
      inbox,
      { subject: 'Confirm', since: started },
      { timeout: 30 },
    )
    const code = mail.code(message)
    expect(code).toBe(pending.get(inbox).code)
    expect(message.actionLink).toContain('/confirm?')

    await tab.fill('input[name=code]', /** @type {string} */ (code))
    await tab.click('button')
    expect(await tab.textContent('#result')).toBe('Code accepted')

    await tab.goto(/** @type {string} */ (message.actionLink))
    expect(await tab.textContent('#result')).toBe('Email confirmed')
    // The footer's unsubscribe link is among the links, but not the action.
    expect(mail.links(message)).toContain('http://acme.example/unsubscribe')
  } finally {
    await context.close()
  }
})
