import { Hono } from 'hono'
import { z } from 'zod'
import { accountOnly, requireAccount } from '../../http/auth'
import { MAX_RECEIVED_HEADERS } from '../../limits'
import { composeMessage } from '../../mail/outbound/compose'
import { prepareRawMessage } from '../../mail/outbound/raw'
import { sendOutbound } from '../../mail/outbound/send'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json } from '../../http/openapi/describe'
import { SendResult } from './schema'

/** `POST /api/outgoing-messages`: send mail, one credit per recipient. */
export const outgoingRoutes = new Hono<AppEnv>()

const recipientObject = z.object({ address: z.string(), name: z.string().nullish() })
const address = z.union([z.string(), recipientObject])

// Bounded so every header field stays under RFC 5322's 998-character line limit.
const attachment = z.object({
  filename: z.string().min(1).max(255).optional(),
  content: z.string(),
  encoding: z.enum(['base64', 'utf8', 'utf-8', 'ascii', 'latin1', 'binary', 'hex']).optional(),
  contentType: z.string().min(1).max(127).optional(),
  contentDisposition: z.string().max(512).optional(),
  cid: z.string().min(1).max(255).optional(),
})

// `envelope` and `rawEncoding` are not Mailsac's: the SMTP submission bridge passes RCPT TO
// and the exact bytes (8-bit mail need not be UTF-8) with them.
const RAW_FIELDS = ['raw', 'rawEncoding', 'envelope']

function isRawBody(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && 'raw' in body && body.raw !== undefined
}

/** The fields of a send request; `sendRequest` adds the raw-message rule and the checks. */
const sendFields = z
  .object({
    raw: z.string().min(1).optional(),
    rawEncoding: z.enum(['utf8', 'base64']).optional(),
    envelope: z.object({ from: z.string().optional(), to: z.array(z.string()).min(1) }).optional(),
    to: z.union([z.string(), z.array(address)]).optional(),
    from: z.union([address, z.array(address)]).optional(),
    subject: z.string().optional(),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z.array(attachment).optional(),
    received: z.union([z.string(), z.array(z.string()).max(MAX_RECEIVED_HEADERS)]).optional(),
  })
  .meta({
    example: {
      to: 'someone@example.com',
      from: 'me@mine.example',
      subject: 'Hello',
      text: 'Hi there',
    },
  })

/**
 * "All other fields will be ignored when you send a raw message": a body with `raw` keeps
 * only the raw fields before validation, whatever else it carries. Unknown fields
 * (`_mailsacKey` among them) are dropped by zod.
 */
const sendRequest = z.preprocess(
  (body) =>
    isRawBody(body)
      ? Object.fromEntries(Object.entries(body).filter(([key]) => RAW_FIELDS.includes(key)))
      : body,
  sendFields.superRefine((body, ctx) => {
    if (body.raw !== undefined) return
    for (const field of ['to', 'from'] as const) {
      if (body[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'required' })
      }
    }
  }),
)

outgoingRoutes.post(
  '/',
  describe({
    tag: 'Outgoing',
    access: 'account',
    summary: 'Send a message',
    description:
      'Composed from `to`, `from`, `subject`, `text`, `html`, `attachments`, or given whole as `raw` (then the other fields are ignored). One credit per recipient; recipients at this service land in their inbox, others are relayed.',
    responses: { 200: json(SendResult, 'What became of each recipient') },
    failures: {
      400: 'Invalid from: exactly one sender address is required.',
      402: 'You must purchase more outgoing messages before you can send',
      401: 'Sending from elsewhere.example is not allowed: it must be one of your domains, verified for sending (npm run admin -- domain verify-sending).',
    },
  }),
  accountOnly,
  validate('json', sendRequest),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const body = c.req.valid('json')
    const now = new Date()
    const message =
      body.raw !== undefined
        ? await prepareRawMessage({ ...body, raw: body.raw }, now)
        : composeMessage({ ...body, to: body.to ?? [], from: body.from ?? [] }, now)
    return c.json(await sendOutbound(c.env, account, message, now))
  },
)
