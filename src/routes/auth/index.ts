import { Hono } from 'hono'
import { deleteCookie, getCookie } from 'hono/cookie'
import { z } from 'zod'
import { openWebSession, SESSION_COOKIE } from '../../http/auth'
import { database } from '../../db/client'
import { findAccountByApiKey } from '../../db/queries/accounts'
import { deleteSession } from '../../db/queries/sessions'
import { fail } from '../../http/errors'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json } from '../../http/openapi/describe'
import { Notice } from '../../http/openapi/common'
import { LoginResult } from './schema'

/** Cookie sessions for the web pages: `/api/auth/login` and `/api/auth/logout`. */
export const authRoutes = new Hono<AppEnv>()

const credentials = z.object({ username: z.string().min(1), apiKey: z.string().min(1) })

authRoutes.post(
  '/login',
  describe({
    tag: 'Web session',
    access: 'none',
    summary: 'Sign in with username and API key',
    description: `Sets the \`${SESSION_COOKIE}\` cookie (HttpOnly, SameSite=Lax) and answers the CSRF token that state-changing requests must send as X-CSRF-Token.`,
    responses: { 200: json(LoginResult, 'Signed in') },
    failures: { 401: 'Wrong username or API key.' },
  }),
  validate('json', credentials),
  async (c) => {
    const { username, apiKey } = c.req.valid('json')
    const db = database(c.env.DB)
    const account = await findAccountByApiKey(db, apiKey)
    if (!account || account.id !== username) fail(401, 'Wrong username or API key.')
    // The page keeps the CSRF token in memory and sends it as X-CSRF-Token.
    return c.json({ _id: account.id, csrfToken: await openWebSession(c, account.id) })
  },
)

authRoutes.post(
  '/logout',
  describe({
    tag: 'Web session',
    access: 'none',
    summary: 'Sign out',
    description: 'Ends the session of the cookie, if any, and clears the cookie.',
    responses: { 200: json(Notice, 'Signed out') },
  }),
  async (c) => {
    const token = getCookie(c, SESSION_COOKIE)
    if (token) await deleteSession(database(c.env.DB), token)
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    return c.json({ message: 'Signed out.' })
  },
)
