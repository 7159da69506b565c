import { Hono } from 'hono'
import { claimDomainFor, removeDomain } from '../../mail/ownership'
import { normalizeDomain } from '../../lib/address'
import { z } from 'zod'
import { bearerToken } from '../../http/auth'
import { database } from '../../db/client'
import { findDomain, listAllDomains, setSendingVerified } from '../../db/queries/domains'
import { domainCheckerFor, verifyDomain } from '../../mail/domain-verification'
import { fail } from '../../http/errors'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json, OPERATOR } from '../../http/openapi/describe'
import { domainJson } from '../domains/json'
import { Domain, DomainList } from '../domains/schema'
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
    failures: {
      404: 'No account alice.',
      409: 'mine.example belongs to another account, or other accounts reserved addresses there.',
    },
  }),
  validate('json', z.object({ domain: domainName, account: z.string().min(1) })),
  async (c) => {
    const { domain, account } = c.req.valid('json')
    const db = database(c.env.DB)
    const claim = await claimDomainFor(db, domain, account)
    if (!claim.ok) fail(claim.status, claim.message)
    return c.json(domainJson(claim.domain))
  },
)

adminDomainsRoutes.get(
  '/',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'List every custom domain',
    description:
      'With the result of each one’s last DNS check (`npm run admin -- doctor` reads it).',
    responses: { 200: json(DomainList, 'Every domain, by name') },
  }),
  async (c) => c.json((await listAllDomains(database(c.env.DB))).map(domainJson)),
)

adminDomainsRoutes.post(
  '/:domain/verify',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Check the DNS of a custom domain',
    description:
      'As the owner’s POST /api/domains/{domain}/verify: MX at Cloudflare Email Routing (or a host of ACCEPTED_MX_HOSTS) and the TXT token, recorded on the domain.',
    responses: { 200: json(Domain, 'The domain with the result of the check') },
    failures: { 404: 'No such domain.' },
  }),
  async (c) => {
    const db = database(c.env.DB)
    const domain = await findDomain(db, c.req.param('domain').toLowerCase())
    if (!domain) fail(404, 'No such domain.')
    const { domain: checked } = await verifyDomain(db, domainCheckerFor(c.env), domain)
    return c.json(domainJson(checked))
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
    description:
      'Deletes the catch-all mail of the domain (unstarred mail of addresses nobody reserved) with its storage, so nothing private turns public; reserved addresses keep their mail.',
    responses: {
      200: json(Released, 'Released', { _id: 'mine.example', message: 'Domain was released.' }),
    },
    failures: {
      404: 'No such domain.',
      503: 'Still deleting the domain’s mail: call again.',
    },
  }),
  async (c) => {
    const domain = c.req.param('domain').toLowerCase()
    const removal = await removeDomain(database(c.env.DB), c.env.MAIL, domain)
    if (removal === 'missing') fail(404, 'No such domain.')
    if (removal === 'unfinished') fail(503, 'Still deleting the domain’s mail: call again.')
    return c.json({ _id: domain, message: 'Domain was released.' })
  },
)
