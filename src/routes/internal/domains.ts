import { Hono } from 'hono'
import { normalizeDomain } from '../../lib/address'
import { z } from 'zod'
import { bearerToken } from '../../http/auth'
import { database } from '../../db/client'
import { findAccount } from '../../db/queries/accounts'
import {
  claimDomain,
  findDomain,
  releaseDomain,
  setSendingVerified,
} from '../../db/queries/domains'
import { fail } from '../../http/errors'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json, OPERATOR } from '../../http/openapi/describe'
import { domainJson } from '../domains/json'
import { Domain } from '../domains/schema'
import { Released } from './schema'

/** Operator routes for custom domains: `/internal/admin/domains`, behind ADMIN_TOKEN. */
export const adminDomainsRoutes = new Hono<AppEnv>()

adminDomainsRoutes.use('*', bearerToken('ADMIN_TOKEN'))

const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .refine((domain) => normalizeDomain(domain) === domain, 'a domain name like example.com')

adminDomainsRoutes.post(
  '/',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Assign a custom domain to an account',
    description: 'Every address at the domain becomes private to the account (a catch-all).',
    responses: { 200: json(Domain, 'The domain') },
    failures: { 404: 'No account alice.', 409: 'mine.example belongs to another account.' },
  }),
  validate('json', z.object({ domain: domainName, account: z.string().min(1) })),
  async (c) => {
    const { domain, account } = c.req.valid('json')
    const db = database(c.env.DB)
    if (!(await findAccount(db, account))) fail(404, `No account ${account}.`)
    const claimed = await claimDomain(db, domain, account)
    if (!claimed) fail(409, `${domain} belongs to another account.`)
    return c.json(domainJson(claimed))
  },
)

adminDomainsRoutes.get(
  '/:domain',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Get a custom domain',
    responses: { 200: json(Domain, 'The domain') },
    failures: { 404: 'No such domain.' },
  }),
  async (c) => {
    const domain = await findDomain(database(c.env.DB), c.req.param('domain').toLowerCase())
    if (!domain) fail(404, 'No such domain.')
    return c.json(domainJson(domain))
  },
)

adminDomainsRoutes.put(
  '/:domain/sending',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Allow or forbid sending from a domain',
    responses: { 200: json(Domain, 'The domain') },
    failures: { 404: 'No such domain.' },
  }),
  validate('json', z.object({ verified: z.boolean() })),
  async (c) => {
    const row = await setSendingVerified(
      database(c.env.DB),
      c.req.param('domain').toLowerCase(),
      c.req.valid('json').verified,
    )
    if (!row) fail(404, 'No such domain.')
    return c.json(domainJson(row))
  },
)

adminDomainsRoutes.delete(
  '/:domain',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Release a custom domain',
    responses: {
      200: json(Released, 'Released', { _id: 'mine.example', message: 'Domain was released.' }),
    },
    failures: { 404: 'No such domain.' },
  }),
  async (c) => {
    const domain = c.req.param('domain').toLowerCase()
    if (!(await releaseDomain(database(c.env.DB), domain))) fail(404, 'No such domain.')
    return c.json({ _id: domain, message: 'Domain was released.' })
  },
)
