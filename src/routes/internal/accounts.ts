import { Hono } from 'hono'
import { removeAccount } from '../../mail/ownership'
import { z } from 'zod'
import { bearerToken } from '../../http/auth'
import { database } from '../../db/client'
import { changeSends, createAccount, findAccount, rotateApiKey } from '../../db/queries/accounts'
import { fail } from '../../http/errors'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json, OPERATOR } from '../../http/openapi/describe'
import { AdminAccount, AdminAccountCreated, ApiKey, Released, Sends } from './schema'

/** Operator routes behind ADMIN_TOKEN, used by `npm run admin`. */
export const adminRoutes = new Hono<AppEnv>()

adminRoutes.use('*', bearerToken('ADMIN_TOKEN'))

const username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'letters, digits, . _ - (at most 64)')

const newAccount = z.object({
  username,
  email: z.email().nullish(),
  messageLimit: z.number().int().min(0).optional(),
  privateAddressCredits: z.number().int().min(0).optional(),
  sendsRemaining: z.number().int().min(0).optional(),
})

function accountJson(account: NonNullable<Awaited<ReturnType<typeof findAccount>>>) {
  return {
    _id: account.id,
    email: account.email,
    messageLimit: account.messageLimit,
    privateAddressCredits: account.privateAddressCredits,
    sendsRemaining: account.sendsRemaining,
    created: account.created.toISOString(),
  }
}

adminRoutes.post(
  '/accounts',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Create an account',
    description: 'Answers the API key once; only its hash is stored.',
    responses: { 200: json(AdminAccountCreated, 'The account and its key') },
    failures: { 409: 'Account alice already exists.' },
  }),
  validate('json', newAccount),
  async (c) => {
    const { username: id, ...settings } = c.req.valid('json')
    const created = await createAccount(database(c.env.DB), id, settings)
    if (!created) fail(409, `Account ${id} already exists.`)
    return c.json({ ...accountJson(created.account), apiKey: created.apiKey })
  },
)

adminRoutes.get(
  '/accounts/:username',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Get an account',
    responses: { 200: json(AdminAccount, 'The account') },
    failures: { 404: 'No such account.' },
  }),
  async (c) => {
    const account = await findAccount(database(c.env.DB), c.req.param('username'))
    if (!account) fail(404, 'No such account.')
    return c.json(accountJson(account))
  },
)

adminRoutes.post(
  '/accounts/:username/key',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: "Replace an account's API key",
    description: 'The old key stops working at once.',
    responses: { 200: json(ApiKey, 'The new key') },
    failures: { 404: 'No such account.' },
  }),
  async (c) => {
    const id = c.req.param('username')
    const apiKey = await rotateApiKey(database(c.env.DB), id)
    if (!apiKey) fail(404, 'No such account.')
    return c.json({ _id: id, apiKey })
  },
)

// Outbound credits: `{ "set": n }` replaces the balance, `{ "add": n }` adds to it (negative
// takes away, never below zero).
const sendsChange = z.union([
  z.object({ set: z.number().int().min(0) }).strict(),
  z.object({ add: z.number().int() }).strict(),
])

adminRoutes.put(
  '/accounts/:username/sends',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Set or add outbound credits',
    description:
      '`{ "set": n }` replaces the balance, `{ "add": n }` adds to it (negative takes away).',
    responses: { 200: json(Sends, 'The new balance') },
    failures: { 400: 'The balance cannot go below zero.', 404: 'No such account.' },
  }),
  validate('json', sendsChange),
  async (c) => {
    const id = c.req.param('username')
    const db = database(c.env.DB)
    const sendsRemaining = await changeSends(db, id, c.req.valid('json'))
    if (sendsRemaining === null) {
      if (!(await findAccount(db, id))) fail(404, 'No such account.')
      fail(400, 'The balance cannot go below zero.')
    }
    return c.json({ _id: id, sendsRemaining })
  },
)

adminRoutes.delete(
  '/accounts/:username',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Delete an account',
    description:
      'With all of its mail (its inboxes and what it starred) and that mail’s storage, its addresses, domains, sessions and delivery records: nothing private to it becomes public or passes to the next holder of an address.',
    responses: { 200: json(Released, 'Deleted') },
    failures: { 404: 'No such account.', 503: 'Still deleting the account’s mail: call again.' },
  }),
  async (c) => {
    const id = c.req.param('username')
    const removal = await removeAccount(database(c.env.DB), c.env.MAIL, id)
    if (removal === 'missing') fail(404, 'No such account.')
    if (removal === 'unfinished') fail(503, 'Still deleting the account’s mail: call again.')
    return c.json({ _id: id, message: 'Account was deleted.' })
  },
)
