import { Hono, type Context } from 'hono'
import { database } from '../../db/client'
import { fail } from '../../http/errors'
import { standaloneHtml } from '../../mail/display'
import { requestedMessage } from '../../http/inbox-access'
import { readContent, readRaw } from '../../mail/inbound/storage'
import type { AppEnv } from '../../env'
import { downloadHeaders, downloadQuery, validate } from '../../http/validation'
import { describe, json, media } from '../../http/openapi/describe'
import { HeadersObject, headersObject } from '../../mail/message-json'
import { MAX_STORED_BODY_CHARS } from '../../limits'

/** The seed's per-representation routes: `/api/{headers,body,dirty,text,raw}/:email/:messageId`. */
export const contentRoutes = new Hono<AppEnv>()

contentRoutes.get(
  '/headers/:email/:messageId',
  describe({
    tag: 'Message content',
    access: 'inbox',
    summary: 'Get message headers as an object',
    description: 'Repeated headers are arrays. `?download=1` makes browsers save it as a file.',
    responses: { 200: json(HeadersObject, 'The headers') },
    failures: { 404: 'Message not found.' },
  }),
  validate('query', downloadQuery),
  async (c) => {
    const { message } = await requestedMessage(c)
    const headers = downloadHeaders(c, `${message.id}-headers.json`)
    for (const [name, value] of Object.entries(headers)) c.header(name, value)
    return c.json(headersObject(message.headers))
  },
)

contentRoutes.get(
  '/body/:email/:messageId',
  describe({
    tag: 'Message content',
    access: 'inbox',
    summary: 'Get sanitized HTML',
    description: `The HTML body with scripts, external resources and dangerous markup removed, from its first ${MAX_STORED_BODY_CHARS} characters (the message's \`truncated\` says when it was cut; GET /api/raw has every byte). \`?download=1\` makes browsers save it as a file.`,
    responses: { 200: media('text/html', 'Sanitized HTML', '<p>Hi there</p>') },
    failures: { 404: 'Message not found.' },
  }),
  validate('query', downloadQuery),
  async (c) => {
    const { message } = await requestedMessage(c)
    const content = await readContent(c.env.MAIL, message)
    return c.body(content.body, 200, {
      'Content-Type': 'text/html; charset=utf-8',
      // Defence in depth for browsers that open the route directly: nothing may run or load.
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      ...downloadHeaders(c, `${message.id}.html`),
    })
  },
)

contentRoutes.get(
  '/dirty/:email/:messageId',
  describe({
    tag: 'Message content',
    access: 'inbox',
    summary: 'Get the HTML as sent',
    description: `Unfiltered, with inline (cid:) images embedded; served in a CSP sandbox. Its first ${MAX_STORED_BODY_CHARS} characters (the message's \`truncated\` says when it was cut; GET /api/raw has every byte). \`?download=1\` makes browsers save it as a file.`,
    responses: {
      200: media('text/html', 'The HTML body', '<p>Hi <img src="data:image/png;base64,…"></p>'),
    },
    failures: { 404: 'Message not found.' },
  }),
  validate('query', downloadQuery),
  async (c) => {
    const { db, message } = await requestedMessage(c)
    const html = await standaloneHtml(db, c.env.MAIL, message, 'dirty')
    return c.body(html, 200, {
      'Content-Type': 'text/html; charset=utf-8',
      // The HTML is the sender's, unfiltered: a sandbox keeps its scripts off our origin.
      'Content-Security-Policy': 'sandbox',
      ...downloadHeaders(c, `${message.id}.html`),
    })
  },
)

contentRoutes.get(
  '/text/:email/:messageId',
  describe({
    tag: 'Message content',
    access: 'inbox',
    summary: 'Get the text body',
    description: `The text body of the message: its first ${MAX_STORED_BODY_CHARS} characters (the message's \`truncated\` says when it was cut; GET /api/raw has every byte). \`?download=1\` makes browsers save it as a file.`,
    responses: { 200: media('text/plain', 'The text', 'Hi there') },
    failures: { 404: 'Message not found.' },
  }),
  validate('query', downloadQuery),
  async (c) => {
    const { message } = await requestedMessage(c)
    const content = await readContent(c.env.MAIL, message)
    return c.body(content.text, 200, {
      'Content-Type': 'text/plain; charset=utf-8',
      ...downloadHeaders(c, `${message.id}.txt`),
    })
  },
)

contentRoutes.get(
  '/raw/:email/:messageId',
  describe({
    tag: 'Message content',
    access: 'inbox',
    summary: 'Get the raw message',
    description:
      'The exact bytes received (RFC 5322), no charset claimed, all of them even when the bodies served elsewhere were truncated. `?download=1` makes browsers save it as a file.',
    responses: {
      200: media(
        'text/plain',
        'The raw message',
        'From: Sender <sender@example.org>\\r\\nSubject: Hello\\r\\n\\r\\nHi there\\r\\n',
      ),
    },
    failures: { 404: 'Message not found.' },
  }),
  validate('query', downloadQuery),
  async (c) => {
    const { message } = await requestedMessage(c)
    const raw = await readRaw(c.env.MAIL, message)
    if (!raw) fail(404, 'Message not found.')
    // The exact bytes received, whatever their charset: no charset is claimed.
    return c.body(raw.body, 200, {
      'Content-Type': 'text/plain',
      'Content-Length': String(raw.size),
      ...downloadHeaders(c, `${message.id}.eml`),
    })
  },
)
