import { Hono } from 'hono'
import { requireAccount } from '../auth'
import { database } from '../db/client'
import { accountStats } from '../db/queries/account-stats'
import type { AppEnv } from '../types'
import { describe, json } from '../openapi/describe'
import { AccountStats, Me } from '../openapi/schemas'

/** The account API: `/api/me` and `/api/me/stats`. */
export const accountRoutes = new Hono<AppEnv>()

accountRoutes.get(
  '/',
  describe({
    tag: 'Account',
    access: 'lenient',
    summary: 'Get the current account',
    description:
      'The account of the key or session; `null` (with 200) when there is none or the key is unknown, as the seed documents.',
    responses: { 200: json(Me, 'The account, or null') },
  }),
  (c) => {
    const account = c.get('account')
    // Seed: "When API key is invalid / user is not authenticated: null", with a 200.
    if (!account) return c.json(null)
    return c.json({
      _id: account.id,
      email: account.email,
      messageLimit: account.messageLimit,
      sendsRemaining: account.sendsRemaining,
      catchAll: account.catchAll,
      privateAddressCredits: account.privateAddressCredits,
      recents: account.recents,
      noAds: 1,
    })
  },
)

accountRoutes.get(
  '/stats',
  describe({
    tag: 'Account',
    access: 'account',
    summary: 'Get account statistics',
    description: 'Stored and starred messages, their bytes, owned addresses and domains.',
    responses: { 200: json(AccountStats, 'The statistics') },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    return c.json(await accountStats(database(c.env.DB), account.id))
  },
)
