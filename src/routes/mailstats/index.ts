import { Hono } from 'hono'
import { z } from 'zod'
import { database } from '../../db/client'
import { findDenylistEntry, listDenylist } from '../../db/queries/denylist'
import {
  commonAttachments,
  countAttachmentMessages,
  findPublicAttachment,
  listAttachmentMessages,
  topAddresses,
  topDomains,
  topSenders,
} from '../../db/queries/mailstats'
import { fail } from '../../http/errors'
import { DEFAULT_STATS_LIMIT, MAILSTATS_DEFAULT_WINDOW_DAYS, MAX_STATS_LIMIT } from '../../limits'
import { normalizeDenylistEntry } from '../../mail/inbound/denylist'
import { attachmentKey } from '../../mail/inbound/storage'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, file, json, pathParam } from '../../http/openapi/describe'
import { MessageList } from '../../http/openapi/common'
import { messageJson } from '../../mail/message-json'
import { AttachmentCount, Blacklist, BlacklistCheck, TallyList } from './schema'

/**
 * Mailsac's Attachments and Email Stats APIs: `/api/mailstats/...`. Anyone may call them, so
 * they only ever see public mail (see isPublicMessage()).
 */
export const mailstatsRoutes = new Hono<AppEnv>()

const date = z.string().pipe(z.coerce.date({ error: 'not a date (ISO 8601 expected)' }))
const page = {
  limit: z.coerce.number().int().min(0).max(MAX_STATS_LIMIT).default(DEFAULT_STATS_LIMIT),
  skip: z.coerce.number().int().min(0).default(0),
}

const pageQuery = z.object(page)

const WINDOW_MS = MAILSTATS_DEFAULT_WINDOW_DAYS * 24 * 60 * 60 * 1000

/**
 * `startDate`/`endDate`, half-open. Issue #16 item 5: either may be left out (the official
 * client sends neither): the end defaults to now and the start to
 * MAILSTATS_DEFAULT_WINDOW_DAYS before the end.
 */
const rangeQuery = z
  .object({ startDate: date.optional(), endDate: date.optional(), ...page })
  .transform(({ startDate, endDate, ...rest }) => {
    // +1 ms: the range is half-open, and mail stored this millisecond counts.
    const end = endDate ?? new Date(Date.now() + 1)
    return { ...rest, startDate: startDate ?? new Date(end.getTime() - WINDOW_MS), endDate: end }
  })
  .refine((query) => query.endDate > query.startDate, {
    path: ['endDate'],
    message: 'must be after startDate',
  })

const rangeNote = ` Without startDate/endDate: the last ${MAILSTATS_DEFAULT_WINDOW_DAYS} days (endDate defaults to now, startDate to ${MAILSTATS_DEFAULT_WINDOW_DAYS} days before endDate).`

const md5Param = z.object({
  md5sum: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, 'an MD5 sum (32 hexadecimal digits)')
    .transform((md5) => md5.toLowerCase()),
})

mailstatsRoutes.get(
  '/common-attachments',
  describe({
    tag: 'Email stats',
    access: 'anyone',
    summary: 'List common attachments',
    description:
      'Attachments carried by the most public messages received in the range, by MD5 sum.' +
      rangeNote,
    responses: {
      200: json(TallyList, 'MD5 sums and message counts', [
        { _id: '4a4b3c8fc1c3f5c5e1a8d4d0b0c9a8b7', n: 12 },
      ]),
    },
    failures: { 400: 'Invalid startDate: not a date (ISO 8601 expected)' },
  }),
  validate('query', rangeQuery),
  async (c) => {
    const { limit, skip, ...range } = c.req.valid('query')
    return c.json(await commonAttachments(database(c.env.DB), range, { limit, skip }))
  },
)

mailstatsRoutes.get(
  '/common-attachments/:md5sum/count',
  describe({
    tag: 'Email stats',
    access: 'anyone',
    summary: 'Count messages with an attachment',
    description: 'Public messages carrying the attachment, whenever received.',
    responses: { 200: json(AttachmentCount, 'The count') },
    failures: { 400: 'Invalid md5sum: an MD5 sum (32 hexadecimal digits)' },
  }),
  validate('param', md5Param),
  async (c) => {
    const n = await countAttachmentMessages(database(c.env.DB), c.req.valid('param').md5sum)
    return c.json({ n })
  },
)

mailstatsRoutes.get(
  '/common-attachments/:md5sum/download',
  describe({
    tag: 'Email stats',
    access: 'anyone',
    summary: 'Download a common attachment',
    description: 'The bytes, if a public message carries them (never from private mail alone).',
    responses: { 200: file('The attachment') },
    failures: {
      400: 'Invalid md5sum: an MD5 sum (32 hexadecimal digits)',
      404: 'No public message carries this attachment.',
    },
  }),
  validate('param', md5Param),
  async (c) => {
    const { md5sum } = c.req.valid('param')
    const attachment = await findPublicAttachment(database(c.env.DB), md5sum)
    if (!attachment) fail(404, 'No public message carries this attachment.')
    const object = await c.env.MAIL.get(attachmentKey(md5sum))
    if (!object) fail(404, 'No public message carries this attachment.')
    const filename = (attachment.filename ?? md5sum).replace(/["\\\r\n]/g, '_')
    return c.body(object.body, 200, {
      'Content-Type': attachment.contentType,
      'Content-Length': String(object.size),
      'Content-Disposition': `attachment; filename="${filename}"`,
    })
  },
)

// Mailsac lists every carrier; pages (newest first) keep one response bounded.
mailstatsRoutes.get(
  '/common-attachments/:md5sum',
  describe({
    tag: 'Email stats',
    access: 'anyone',
    summary: 'List messages with an attachment',
    description: 'Public messages carrying the attachment, newest first, a page at a time.',
    responses: { 200: json(MessageList, 'Messages') },
    failures: { 400: 'Invalid md5sum: an MD5 sum (32 hexadecimal digits)' },
  }),
  validate('param', md5Param),
  validate('query', pageQuery),
  async (c) => {
    const rows = await listAttachmentMessages(
      database(c.env.DB),
      c.req.valid('param').md5sum,
      c.req.valid('query'),
    )
    return c.json(rows.map(messageJson))
  },
)

for (const [path, tally, summary, example] of [
  ['/top-addresses', topAddresses, 'List top receiving addresses', 'someone@example.com'],
  ['/top-senders', topSenders, 'List top senders', 'sender@example.org'],
  ['/top-domains', topDomains, 'List top receiving domains', 'example.com'],
] as const) {
  mailstatsRoutes.get(
    path,
    describe({
      tag: 'Email stats',
      access: 'anyone',
      summary,
      description: 'Counts of public messages received in the range, most first.' + rangeNote,
      responses: { 200: json(TallyList, 'Counts', [{ _id: example, n: 7 }]) },
      failures: { 400: 'Invalid startDate: not a date (ISO 8601 expected)' },
    }),
    validate('query', rangeQuery),
    async (c) => {
      const { limit, skip, ...range } = c.req.valid('query')
      return c.json(await tally(database(c.env.DB), range, { limit, skip }))
    },
  )
}

mailstatsRoutes.get(
  '/blacklist',
  describe({
    tag: 'Email stats',
    access: 'anyone',
    summary: 'List denied domains and IPs',
    description: 'Sender domains and client IP addresses whose mail is refused.',
    responses: { 200: json(Blacklist, 'The deny-list') },
  }),
  async (c) => {
    const entries = await listDenylist(database(c.env.DB))
    return c.json(entries.map((row) => row.entry))
  },
)

mailstatsRoutes.get(
  '/blacklist/:domainOrIP',
  describe({
    tag: 'Email stats',
    access: 'anyone',
    summary: 'Check a domain or IP against the deny-list',
    parameters: [
      pathParam('domainOrIP', 'A domain or an IP address', { type: 'string' }, 'spam.example'),
    ],
    responses: { 200: json(BlacklistCheck, 'It is listed') },
    failures: {
      400: 'Invalid domainOrIP: x is neither a domain nor an IP address.',
      404: 'spam.example is not on the deny-list.',
    },
  }),
  async (c) => {
    const input = c.req.param('domainOrIP')
    const entry = normalizeDenylistEntry(input)
    if (!entry) fail(400, `Invalid domainOrIP: ${input} is neither a domain nor an IP address.`)
    if (!(await findDenylistEntry(database(c.env.DB), entry))) {
      fail(404, `${entry} is not on the deny-list.`)
    }
    return c.json({ blacklisted: true })
  },
)
