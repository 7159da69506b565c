import { Hono } from 'hono'
import { z } from 'zod'
import { accountOnly, requireAccount } from '../../http/auth'
import { database } from '../../db/client'
import { accountInbox, searchAccountMessages } from '../../db/queries/inbox'
import { searchAccountMail } from '../../db/queries/search'
import { searchQueryOrFail } from '../../http/search'
import { usesSearchSyntax } from '../../lib/search-query'
import { fail } from '../../http/errors'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../../limits'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json } from '../../http/openapi/describe'
import { messageJson } from '../../mail/message-json'
import { InboxFilter, InboxPage, InboxSearch } from './schema'

/** Account-wide views of the Inbox UI: `/api/inbox`, `/api/inbox-filter`, `/api/inbox-search`. */
export const inboxRoutes = new Hono<AppEnv>()

const inboxQuery = z.object({
  limit: z.coerce.number().int().min(0).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  skip: z.coerce.number().int().min(0).default(0),
  since: z.coerce.date().optional(),
})

inboxRoutes.get(
  '/inbox',
  describe({
    tag: 'Inbox',
    access: 'account',
    summary: 'List mail of all owned inboxes',
    description:
      'Messages of every reserved address and owned domain, newest first, with the unread count.',
    responses: { 200: json(InboxPage, 'A page of messages') },
  }),
  accountOnly,
  validate('query', inboxQuery),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const page = c.req.valid('query')
    const { rows, unread } = await accountInbox(database(c.env.DB), account.id, page)
    return c.json({ messages: rows.map(messageJson), unread, limit: page.limit, skip: page.skip })
  },
)

const filterQuery = z.object({
  andSubjectIncludes: z.string().min(1).optional(),
  andFrom: z.string().min(1).optional(),
  andTo: z.string().min(1).optional(),
  andRead: z.enum(['true', 'false']).optional(),
})

inboxRoutes.get(
  '/inbox-filter',
  describe({
    tag: 'Inbox',
    access: 'account',
    summary: 'Filter owned mail',
    description:
      'Messages matching every given filter (subject contains, from, to, read or unread).',
    responses: { 200: json(InboxFilter, 'Matching messages') },
    failures: { 400: 'Give at least one of andSubjectIncludes, andFrom, andTo, andRead.' },
  }),
  accountOnly,
  validate('query', filterQuery),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const { andSubjectIncludes, andFrom, andTo, andRead } = c.req.valid('query')
    if (!andSubjectIncludes && !andFrom && !andTo && !andRead) {
      fail(400, 'Give at least one of andSubjectIncludes, andFrom, andTo, andRead.')
    }
    const read = andRead === undefined ? undefined : andRead === 'true'
    const rows = await searchAccountMessages(
      database(c.env.DB),
      account.id,
      { subject: andSubjectIncludes, from: andFrom, to: andTo, read },
      'and',
    )
    return c.json({ messages: rows.map(messageJson) })
  },
)

inboxRoutes.get(
  '/inbox-search',
  describe({
    tag: 'Inbox',
    access: 'account',
    summary: 'Search owned mail',
    description:
      "Messages whose subject, sender or recipient contains the query (Mailsac); without one, the account's latest messages. " +
      'A query with search syntax (an operator such as `from:` or `is:unread`, a quoted phrase or a `-`) is ' +
      'searched by it instead: README "Search".',
    responses: { 200: json(InboxSearch, 'Matching messages') },
    failures: { 400: 'Invalid search: the reason (unbalanced quote, unknown operator, ...).' },
  }),
  accountOnly,
  validate('query', z.object({ query: z.string().max(2000).optional() })),
  async (c) => {
    const account = requireAccount(c.get('account'))
    // Optional, as in Mailsac's document (issue #16 item 7): no query matches every message.
    const query = c.req.valid('query').query ?? ''
    const db = database(c.env.DB)
    // Without the syntax, Mailsac's meaning: the whole query contained in subject, from or to.
    const rows = usesSearchSyntax(query)
      ? await searchAccountMail(db, account.id, searchQueryOrFail(query))
      : await searchAccountMessages(
          db,
          account.id,
          query ? { subject: query, from: query, to: query } : {},
          'or',
        )
    return c.json({ query, messages: rows.map(messageJson) })
  },
)
