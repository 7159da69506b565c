import { acceptedDomains } from '../mail/accepted-domains'
import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { StatusError } from '../lib/status-error'
import { database } from '../db/client'
import { listPrivateAddresses } from '../db/queries/addresses'
import { findMessageAttachments, listInboxMessages } from '../db/queries/messages'
import { MAX_INLINE_RAW_BYTES } from '../limits'
import { sameOriginPath } from '../lib/same-origin-path'
import { standaloneHtml } from '../mail/display'
import { inboxParam, requestedMessage, withInboxAccess } from '../http/inbox-access'
import { readContent, readRaw } from '../mail/inbound/storage'
import type { AppEnv } from '../env'
import { z } from 'zod'
import { mailsacKeyAuth } from '../http/auth'
import { validate } from '../http/validation'
import { describe, media, pathParam } from '../http/openapi/describe'
import { inboxUrl } from './layout'
import { AccountPage, ErrorPage, HomePage, InboxPage, LoginPage, MessagePage } from './pages'

/**
 * The web pages, server-rendered with Hono's JSX: the same policy functions as the REST API
 * decide who sees what (a private inbox only for its owner's session), and the HTML is the
 * whole page, so it shows without waiting for a script. Scripts add the live feed and the
 * buttons. Server rendering rather than a client app keeps every page well under 100 KB of
 * JS and needs no build step beyond wrangler's own bundling.
 */
export const webRoutes = new Hono<AppEnv>()

const EMAIL = pathParam('email', 'The inbox address', { type: 'string' }, 'someone@example.com')
const MESSAGE_ID = pathParam('messageId', 'The message id')

/** The OpenAPI description of a page (pages are routes too, so the reference lists them). */
function page(
  summary: string,
  description: string,
  options: { parameters?: (typeof EMAIL)[]; private?: boolean; example?: string } = {},
) {
  const privacy = options.private
    ? ' A private inbox answers 401 with an HTML page (and a sign-in link) to anyone but its owner.'
    : ''
  return describe({
    tag: 'Web pages',
    access: 'page',
    summary,
    description: description + privacy,
    parameters: options.parameters,
    responses: {
      200: media(
        'text/html',
        'The page',
        options.example ?? '<!DOCTYPE html><html lang="en">…</html>',
      ),
    },
  })
}

/** How many messages the inbox page lists; newer ones arrive over the live feed. */
const INBOX_PAGE_SIZE = 100

/** The pages' policy: our own scripts, styles and frames only; sockets to this host. */
function pageSecurityHeaders(c: Context<AppEnv>) {
  const { host, protocol } = new URL(c.req.url)
  const socket = `${protocol === 'https:' ? 'wss' : 'ws'}://${host}`
  c.header(
    'Content-Security-Policy',
    [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${socket}`,
      "frame-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "object-src 'none'",
    ].join('; '),
  )
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('Referrer-Policy', 'same-origin')
  // Pages differ per session: never from a shared cache.
  c.header('Cache-Control', 'private, no-store')
}

// The pages know their reader the way the API does: a Mailsac-Key (handy for scripts and
// tests) or the web session cookie. Pages only read, so no CSRF token is asked for here; the
// buttons call the API, which asks for it.
webRoutes.use('*', mailsacKeyAuth())
webRoutes.use('*', async (c, next) => {
  await next()
  if (
    c.res.headers.get('content-type')?.startsWith('text/html') &&
    !c.res.headers.has('content-security-policy')
  ) {
    pageSecurityHeaders(c)
  }
})

const viewer = (c: Context<AppEnv>) => ({
  account: c.get('account'),
  csrfToken: c.get('csrfToken'),
})

webRoutes.onError((error, c) => {
  const status = error instanceof HTTPException || error instanceof StatusError ? error.status : 500
  if (status === 500)
    console.error(`unhandled error on ${c.req.method} ${c.req.path}: ${error.message}`)
  const message = status === 500 ? 'Something went wrong; try again later.' : error.message
  return c.html(
    <ErrorPage {...viewer(c)} status={status} message={message} next={c.req.path} />,
    status,
  )
})

webRoutes.get(
  '/',
  page('Home page', 'What the service is, a box to open any inbox, and a link to these docs.'),
  (c) => {
    const domains = acceptedDomains(c.env.ACCEPTED_DOMAINS)
    return c.html(<HomePage {...viewer(c)} domains={domains} />)
  },
)

/** The home page's form: `/inbox?email=` to the inbox's own URL. */
webRoutes.get(
  '/inbox',
  page(
    'Open an inbox (home page form)',
    'Redirects (303) `?email=` to `/inbox/:email`; an invalid address gets a 400 HTML page.',
  ),
  (c) => {
    const inbox = inboxParam(c.req.query('email') ?? '')
    return c.redirect(inboxUrl(inbox), 303)
  },
)

webRoutes.get(
  '/login',
  page(
    'Sign-in page',
    'Username and API key; the form posts to `/api/auth/login` and goes on to `?next=` (a path on this site).',
  ),
  (c) => {
    // Only a path on this site: an open redirect would make the login page a phishing tool.
    const safeNext = sameOriginPath(c.req.query('next'), '/account')
    return c.html(<LoginPage {...viewer(c)} next={safeNext} />)
  },
)

webRoutes.get(
  '/account',
  page(
    'Account page',
    'Credits, private addresses (reserve, release, forwarding settings) and a new API key. Without a session, a 303 to `/login`.',
  ),
  async (c) => {
    const account = c.get('account')
    if (!account) return c.redirect('/login?next=/account', 303)
    const rows = await listPrivateAddresses(database(c.env.DB), account.id)
    return c.html(<AccountPage {...viewer(c)} account={account} addresses={rows} />)
  },
)

webRoutes.get(
  '/inbox/:email',
  page(
    'Inbox page',
    'The inbox, newest first (100 a page; `?until=` starts at older mail); new mail appears live over `/incoming-messages`.',
    {
      parameters: [EMAIL],
      private: true,
    },
  ),
  validate('query', z.object({ until: z.coerce.date().optional() })),
  async (c) => {
    const db = database(c.env.DB)
    const { until } = c.req.valid('query')
    const { access, result } = await withInboxAccess(
      db,
      c.req.param('email'),
      c.get('account'),
      (inbox, viewerId) =>
        listInboxMessages(db, inbox, viewerId, { limit: INBOX_PAGE_SIZE, until }),
    )
    // A full page may have older mail behind it: link to the page that starts there.
    const last = result.length === INBOX_PAGE_SIZE ? result[result.length - 1] : undefined
    return c.html(
      <InboxPage
        {...viewer(c)}
        inbox={access.inbox}
        owner={access.owner}
        messages={result}
        older={last?.received.toISOString()}
        isNewest={until === undefined}
      />,
    )
  },
)

webRoutes.get(
  '/inbox/:email/:messageId',
  page(
    'Message page',
    'The message with tabs for HTML (sandboxed frame), text, headers, raw source and attachments; star, read and delete buttons.',
    { parameters: [EMAIL, MESSAGE_ID], private: true },
  ),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const [content, attachments, raw] = await Promise.all([
      readContent(c.env.MAIL, message),
      findMessageAttachments(db, message.id),
      message.size <= MAX_INLINE_RAW_BYTES ? readRaw(c.env.MAIL, message) : null,
    ])
    return c.html(
      <MessagePage
        {...viewer(c)}
        inbox={access.inbox}
        message={message}
        text={content.text}
        hasHtml={content.html.trim() !== ''}
        raw={raw ? await new Response(raw.body).text() : null}
        attachments={attachments}
      />,
    )
  },
)

/**
 * The HTML tab's frame: the message's HTML with scripts, handlers, frames and forms removed
 * (src/mail/inbound/sanitize.ts, display mode) and its inline cid: images as data: URIs. Its own CSP
 * sandboxes it (no scripts, unique origin) even when opened outside the page's iframe, and
 * lets it load nothing but images and inline styles.
 */
webRoutes.get(
  '/inbox/:email/:messageId/html',
  page(
    "The message page's HTML frame",
    "The message HTML without scripts, handlers, frames or forms, inline images as data: URIs, under a CSP with `sandbox` and `default-src 'none'`.",
    { parameters: [EMAIL, MESSAGE_ID], private: true, example: '<p>Hello</p>' },
  ),
  async (c) => {
    const { db, message } = await requestedMessage(c)
    const html = await standaloneHtml(db, c.env.MAIL, message, 'display')
    return c.body(html, 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': [
        "default-src 'none'",
        'img-src data: https: http:',
        "style-src 'unsafe-inline'",
        'font-src data: https:',
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
        'sandbox allow-popups allow-popups-to-escape-sandbox',
      ].join('; '),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'private, no-store',
    })
  },
)
