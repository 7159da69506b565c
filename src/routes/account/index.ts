import { Hono } from 'hono'
import { openWebSession, requireAccount } from '../../http/auth'
import { database } from '../../db/client'
import { accountLabels, accountStats } from '../../db/queries/account-stats'
import { rotateApiKey } from '../../db/queries/accounts'
import { fail } from '../../http/errors'
import type { AppEnv } from '../../env'
import { describe, json } from '../../http/openapi/describe'
import { AccountStats, Me, NewApiKey } from './schema'

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
  async (c) => {
    const account = c.get('account')
    // Seed: "When API key is invalid / user is not authenticated: null", with a 200.
    if (!account) return c.json(null)
    // Of Mailsac's CurrentUserInfo, `labels` and `apiAccess` mean something here; the rest
    // (billing, plans, UI settings) do not (test/http/openapi/mailsac-compat.test.ts).
    return c.json({
      _id: account.id,
      email: account.email,
      messageLimit: account.messageLimit,
      sendsRemaining: account.sendsRemaining,
      catchAll: account.catchAll,
      privateAddressCredits: account.privateAddressCredits,
      recents: account.recents,
      labels: await accountLabels(database(c.env.DB), account.id),
      // Every account may use the API: the key is the account.
      apiAccess: 1,
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

/**
 * `POST /api/me/api-key`: a new API key for the caller, shown once; the old one stops working
 * at once. Not a Mailsac route (Mailsac rotates keys in its dashboard): the /account page's
 * "regenerate" button. Every web session of the account ends with the old key (whoever
 * signed in with a leaked key is shut out); a rotation from the page itself gets a fresh
 * session, with its new CSRF token in the answer.
 */
accountRoutes.post(
  '/api-key',
  describe({
    tag: 'Account',
    access: 'account',
    summary: 'Regenerate the API key',
    description:
      'Issues a new 64-character API key and revokes the old one at once; the key is shown only in this response. Every web session of the account ends. Not a Mailsac route. With a session cookie, send the X-CSRF-Token header: the answer then sets a fresh session cookie and carries its `csrfToken`.',
    responses: { 200: json(NewApiKey, 'The new key') },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const apiKey = await rotateApiKey(database(c.env.DB), account.id)
    if (!apiKey) fail(404, 'Account not found.')
    // A CSRF token is set only for cookie-authenticated requests: the page that rotated.
    if (!c.get('csrfToken')) return c.json({ _id: account.id, apiKey })
    return c.json({ _id: account.id, apiKey, csrfToken: await openWebSession(c, account.id) })
  },
)
