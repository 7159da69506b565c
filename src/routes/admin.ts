import { Hono } from 'hono'
import { z } from 'zod'
import { bearerToken } from '../auth'
import { database } from '../db/client'
import {
  changeSends,
  createAccount,
  deleteAccount,
  findAccount,
  rotateApiKey,
} from '../db/queries/accounts'
import { fail } from '../errors'
import type { AppEnv } from '../types'
import { validate } from '../validation'

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

adminRoutes.post('/accounts', validate('json', newAccount), async (c) => {
  const { username: id, ...settings } = c.req.valid('json')
  const created = await createAccount(database(c.env.DB), id, settings)
  if (!created) fail(409, `Account ${id} already exists.`)
  return c.json({ ...accountJson(created.account), apiKey: created.apiKey })
})

adminRoutes.get('/accounts/:username', async (c) => {
  const account = await findAccount(database(c.env.DB), c.req.param('username'))
  if (!account) fail(404, 'No such account.')
  return c.json(accountJson(account))
})

adminRoutes.post('/accounts/:username/key', async (c) => {
  const id = c.req.param('username')
  const apiKey = await rotateApiKey(database(c.env.DB), id)
  if (!apiKey) fail(404, 'No such account.')
  return c.json({ _id: id, apiKey })
})

// Outbound credits: `{ "set": n }` replaces the balance, `{ "add": n }` adds to it (negative
// takes away, never below zero).
const sendsChange = z.union([
  z.object({ set: z.number().int().min(0) }).strict(),
  z.object({ add: z.number().int() }).strict(),
])

adminRoutes.put('/accounts/:username/sends', validate('json', sendsChange), async (c) => {
  const id = c.req.param('username')
  const db = database(c.env.DB)
  const sendsRemaining = await changeSends(db, id, c.req.valid('json'))
  if (sendsRemaining === null) {
    if (!(await findAccount(db, id))) fail(404, 'No such account.')
    fail(400, 'The balance cannot go below zero.')
  }
  return c.json({ _id: id, sendsRemaining })
})

adminRoutes.delete('/accounts/:username', async (c) => {
  const id = c.req.param('username')
  if (!(await deleteAccount(database(c.env.DB), id))) fail(404, 'No such account.')
  return c.json({ _id: id, message: 'Account was deleted.' })
})
