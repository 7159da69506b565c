import { Hono, type Context } from 'hono'
import { z } from 'zod'
import { database, type Database } from '../../db/client'
import type { Account } from '../../db/queries/accounts'
import {
  findMessage,
  listInboxMessagesSince,
  type MessageWithHeaders,
} from '../../db/queries/messages'
import { fail, statusText } from '../../http/errors'
import { inboxAccess, requestedMessage, withInboxAccess } from '../../http/inbox-access'
import { describe, json } from '../../http/openapi/describe'
import { MessageExtract, WaitMessage, WaitMessageList } from './schema'
import { validate } from '../../http/validation'
import type { AppEnv } from '../../env'
import {
  WAIT_DEFAULT_TIMEOUT_SECONDS,
  WAIT_MAX_COUNT,
  WAIT_MAX_REGEX_CHARS,
  WAIT_MAX_TIMEOUT_SECONDS,
  WAIT_SCAN_MESSAGES,
} from '../../limits'
import { waitForMessages } from '../../mail/fanout/wait'
import { fullMessageJson } from '../../mail/message-json'
import { matchingMessages, parseRegex, type MessageFilter } from '../../mail/message-filter'
import { maySeeMessage } from '../../mail/privacy'

/**
 * For tests of email flows, this service's extension: wait for a message
 * (`/:email/wait`), the newest match (`/:email/latest`) and a message's links and codes
 * (`/:email/messages/:messageId/extract`), under `/api/addresses`.
 */
export const waitRoutes = new Hono<AppEnv>()

const flag = z.enum(['1', 'true', '0', 'false']).optional()
const repeatable = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]))

const filterQuery = z.object({
  from: z.string().optional().meta({ description: 'Contained in a From address or name' }),
  to: z.string().optional().meta({ description: 'Contained in a To/Cc address or name' }),
  subject: z.string().optional().meta({ description: 'Contained in the subject' }),
  text: z.string().optional().meta({ description: 'Contained in the subject or the text body' }),
  regex: z
    .string()
    .optional()
    .meta({
      description: `\`pattern\` or \`/pattern/flags\` (i, m, s, u), at most ${WAIT_MAX_REGEX_CHARS} characters, tested on the subject and the first 64 KB of the text body; nested quantifiers and backreferences are refused`,
    }),
  since: z.string().optional().meta({
    description:
      'Only mail received at or after this: an ISO timestamp, milliseconds since the epoch, or a message id of this inbox (mail after that message)',
  }),
  header: repeatable.meta({ description: '`Name:Value`, an exact header value; repeatable' }),
  hasCode: flag.meta({ description: '1: only messages with a one-time code' }),
  hasLink: flag.meta({ description: '1: only messages with a link' }),
})

const waitQuery = filterQuery.extend({
  count: z.coerce.number().int().min(1).max(WAIT_MAX_COUNT).default(1),
  timeout: z.coerce
    .number()
    .min(0)
    .max(WAIT_MAX_TIMEOUT_SECONDS)
    .default(WAIT_DEFAULT_TIMEOUT_SECONDS)
    .meta({ description: `Seconds to wait (default ${WAIT_DEFAULT_TIMEOUT_SECONDS})` }),
  expect: z.enum(['none']).optional().meta({
    description: '`none`: succeed when nothing matched within the timeout, 409 when something did',
  }),
})

type FilterQuery = z.infer<typeof filterQuery>

const isOn = (value: string | undefined) => value === '1' || value === 'true'

/** The filter of a query string; `since` is resolved against the inbox. */
async function readFilter(db: Database, inbox: string, query: FilterQuery) {
  const filter: MessageFilter = {
    from: query.from,
    to: query.to,
    subject: query.subject,
    text: query.text,
    hasCode: isOn(query.hasCode),
    hasLink: isOn(query.hasLink),
    headers: query.header.map((pair) => {
      const colon = pair.indexOf(':')
      if (colon < 1) fail(400, `Invalid header: "${pair}" is not Name:Value.`)
      return [pair.slice(0, colon).trim(), pair.slice(colon + 1).trim()] as [string, string]
    }),
  }
  if (query.regex !== undefined) {
    const regex = parseRegex(query.regex)
    if (typeof regex === 'string') fail(400, `Invalid ${regex}`)
    filter.regex = regex
  }
  return { filter, ...(await readSince(db, inbox, query.since)) }
}

async function readSince(db: Database, inbox: string, since: string | undefined) {
  if (!since) return {}
  if (/^\d+$/.test(since)) return { since: new Date(Number(since)) }
  if (/^\d{4}-\d\d-\d\d/.test(since)) {
    const date = new Date(since)
    if (Number.isNaN(date.getTime())) fail(400, `Invalid since: ${since}`)
    return { since: date }
  }
  const [message] = await findMessage(db, inbox, since)
  if (!message) fail(400, `Invalid since: no message ${since} in this inbox.`)
  return { since: message.received, except: message.id }
}

/** The SQL window of listInboxMessagesSince, for a row the hub announced. */
function inWindow(message: MessageWithHeaders, window: { since?: Date; except?: string }) {
  if (window.since && message.received.getTime() < window.since.getTime()) return false
  return message.id !== window.except
}

/** The wait response's message: the full message plus its codes and action link. */
async function waitMessageJson(bucket: R2Bucket, message: MessageWithHeaders) {
  return {
    ...(await fullMessageJson(bucket, message)),
    codes: message.codes,
    actionLink: message.actionLink,
  }
}

/** Reads the newest matches of an inbox under the caller's access check, in one round trip. */
function matchReader(
  c: Context<AppEnv>,
  db: Database,
  account: Account | null,
  window: { filter: MessageFilter; since?: Date; except?: string },
  limit: number,
) {
  return async () => {
    const { result: rows } = await withInboxAccess(
      db,
      c.req.param('email') as string,
      account,
      (inbox, viewerId) =>
        listInboxMessagesSince(db, inbox, viewerId, { ...window, limit: WAIT_SCAN_MESSAGES }),
    )
    return matchingMessages(db, c.env.MAIL, rows, window.filter, limit)
  }
}

waitRoutes.get(
  '/:email/wait',
  describe({
    tag: 'Testing',
    access: 'inbox',
    summary: 'Wait for a message',
    description: `Holds the request until \`count\` messages matching the filters are in the inbox, then answers them (newest first) with their links, codes and action link. Mail already in the inbox counts: pass \`since\` (the time the test started, or the id of the last message it saw) to ignore older mail. Woken by ingest, not by polling. Times out after \`timeout\` seconds (default ${WAIT_DEFAULT_TIMEOUT_SECONDS}, at most ${WAIT_MAX_TIMEOUT_SECONDS}) with a 408 that names how many matched; the partial matches are not returned (GET .../latest has the newest). With \`expect=none\`: 200 \`[]\` when nothing matched within the timeout, 409 with the matches as soon as something does.`,
    responses: { 200: json(WaitMessageList, 'The matching messages') },
    failures: {
      400: 'Invalid regex: nested quantifiers and backreferences are not allowed.',
      408: 'Timed out after 30 s with 0 of 1 matching messages.',
      409: 'Expected no matching message, but 1 arrived.',
    },
  }),
  validate('query', waitQuery),
  async (c) => {
    const db = database(c.env.DB)
    const account = c.get('account')
    const query = c.req.valid('query')
    // The access check first: a refused caller is never registered anywhere.
    const access = await inboxAccess(db, c.req.param('email'), account)
    const window = await readFilter(db, access.inbox, query)
    const expectNone = query.expect === 'none'
    const limit = expectNone ? WAIT_MAX_COUNT : query.count
    const outcome = await waitForMessages(c.env, {
      inbox: access.inbox,
      owner: access.owner,
      deadline: Date.now() + query.timeout * 1000,
      read: matchReader(c, db, account, window, limit),
      match: (arrived) =>
        matchingMessages(
          db,
          c.env.MAIL,
          arrived.filter(
            (message) =>
              message.inbox === access.inbox &&
              maySeeMessage(message, access.owner, account?.id ?? null) &&
              inWindow(message, window),
          ),
          window.filter,
          limit,
        ),
      enough: (matches) => matches.length >= (expectNone ? 1 : query.count),
      limit,
      defer: (work) => c.executionCtx.waitUntil(work),
    })
    const messages = await Promise.all(
      outcome.matches.map((message) => waitMessageJson(c.env.MAIL, message)),
    )
    if (expectNone) {
      if (outcome.matches.length === 0) return c.json([])
      const message = `Expected no matching message, but ${outcome.matches.length} arrived.`
      return c.json({ error: statusText(409), message, messages }, 409)
    }
    if (outcome.timedOut) {
      fail(
        408,
        `Timed out after ${query.timeout} s with ${outcome.matches.length} of ${query.count} matching messages.`,
      )
    }
    return c.json(messages)
  },
)

waitRoutes.get(
  '/:email/latest',
  describe({
    tag: 'Testing',
    access: 'inbox',
    summary: 'The newest matching message',
    description:
      'The newest message of the inbox matching the filters of GET .../wait, in full with its links, codes and action link, at once; 404 when none matches (among the newest 200).',
    responses: { 200: json(WaitMessage, 'The newest matching message') },
    failures: { 404: 'No message matches.' },
  }),
  validate('query', filterQuery),
  async (c) => {
    const db = database(c.env.DB)
    const account = c.get('account')
    const access = await inboxAccess(db, c.req.param('email'), account)
    const window = await readFilter(db, access.inbox, c.req.valid('query'))
    const [latest] = await matchReader(c, db, account, window, 1)()
    if (!latest) fail(404, 'No message matches.')
    return c.json(await waitMessageJson(c.env.MAIL, latest))
  },
)

waitRoutes.get(
  '/:email/messages/:messageId/extract',
  describe({
    tag: 'Testing',
    access: 'inbox',
    summary: 'Links and codes of a message',
    description:
      'The links of the message, the one that looks like its action (verify, confirm, reset, magic sign-in: by the words of its URL and anchor text) and its one-time codes, most likely first. Found once when the message was received.',
    responses: { 200: json(MessageExtract, 'Links and codes') },
    failures: { 404: 'Message not found.' },
  }),
  async (c) => {
    const { message } = await requestedMessage(c)
    return c.json({ links: message.links, actionLink: message.actionLink, codes: message.codes })
  },
)
