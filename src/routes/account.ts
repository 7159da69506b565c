import { Hono } from 'hono'
import type { AppEnv } from '../types'

/** The account API: `/api/me`. */
export const accountRoutes = new Hono<AppEnv>()

accountRoutes.get('/', (c) => {
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
    recents: [],
    noAds: 1,
  })
})
