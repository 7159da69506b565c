import { Hono, type Context } from 'hono'
import { accountOnly, requireAccount } from '../../http/auth'
import { database } from '../../db/client'
import {
  countDomainMessages,
  deleteDomainMessages,
  findDomain,
  listDomainMessages,
  listDomains,
} from '../../db/queries/domains'
import { fail } from '../../http/errors'
import { releaseStorage } from '../../mail/inbound/storage'
import type { AppEnv } from '../../env'
import { pageQuery, validate } from '../../http/validation'
import { describe, json } from '../../http/openapi/describe'
import { MessageList } from '../../http/openapi/common'
import { messageJson } from '../../mail/message-json'
import { domainCheckerFor, verifyDomain } from '../../mail/domain-verification'
import { catchAllAddressJson, domainJson } from './json'
import { Domain, DomainDetail, DomainList } from './schema'

/** Custom domains owned by the account: `/api/domains`. Mail at them is private to it. */
export const domainsRoutes = new Hono<AppEnv>()

/** The domain named by `:domain`, if the caller owns it (401 otherwise, as Mailsac answers). */
async function ownedDomain(c: Context<AppEnv>) {
  const account = requireAccount(c.get('account'))
  const name = (c.req.param('domain') as string).trim().toLowerCase()
  const db = database(c.env.DB)
  const domain = await findDomain(db, name)
  if (!domain || domain.owner !== account.id) fail(401, `The domain ${name} is not one of yours.`)
  return { db, domain }
}

domainsRoutes.get(
  '/',
  describe({
    tag: 'Domains',
    access: 'account',
    summary: 'List custom domains',
    responses: { 200: json(DomainList, "The account's domains") },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const rows = await listDomains(database(c.env.DB), account.id)
    return c.json(rows.map(domainJson))
  },
)

domainsRoutes.get(
  '/:domain',
  describe({
    tag: 'Domains',
    access: 'account',
    summary: 'Get a custom domain',
    responses: { 200: json(DomainDetail, 'The domain and how many messages it holds') },
    failures: { 401: 'The domain mine.example is not one of yours.' },
  }),
  async (c) => {
    const { db, domain } = await ownedDomain(c)
    return c.json({
      domain: domainJson(domain),
      totalMessages: await countDomainMessages(db, domain.domain, domain.owner),
      catchAllAddress: catchAllAddressJson(domain),
    })
  },
)

domainsRoutes.get(
  '/:domain/messages',
  describe({
    tag: 'Domains',
    access: 'account',
    summary: 'List the messages of a custom domain',
    description: 'Mail to every address at the domain, newest first.',
    responses: { 200: json(MessageList, 'Messages') },
    failures: { 401: 'The domain mine.example is not one of yours.' },
  }),
  accountOnly,
  validate('query', pageQuery),
  async (c) => {
    const { db, domain } = await ownedDomain(c)
    const rows = await listDomainMessages(db, domain.domain, domain.owner, c.req.valid('query'))
    return c.json(rows.map(messageJson))
  },
)

domainsRoutes.post(
  '/:domain/delete-all-domain-mail',
  describe({
    tag: 'Domains',
    access: 'account',
    summary: 'Delete all mail of a custom domain',
    responses: { 204: { description: 'Deleted' } },
    failures: { 401: 'The domain mine.example is not one of yours.' },
  }),
  async (c) => {
    const { db, domain } = await ownedDomain(c)
    await releaseStorage(
      db,
      c.env.MAIL,
      await deleteDomainMessages(db, domain.domain, domain.owner),
    )
    return c.body(null, 204)
  },
)

domainsRoutes.post(
  '/:domain/verify',
  describe({
    tag: 'Domains',
    access: 'account',
    summary: 'Check the DNS of a custom domain',
    description:
      'Looks up its MX (must point at Cloudflare Email Routing or a bridge host of ACCEPTED_MX_HOSTS, or mail will not arrive) and its `verificationTxt` TXT record over DNS-over-HTTPS, and records the result on the domain (`verified`, `verifiedMx`, `lastVerificationErrors`). Not in Mailsac’s API, whose domains are verified by its staff.',
    responses: { 200: json(Domain, 'The domain with the result of the check') },
    failures: { 401: 'The domain mine.example is not one of yours.' },
  }),
  async (c) => {
    const { db, domain } = await ownedDomain(c)
    const { domain: checked } = await verifyDomain(db, domainCheckerFor(c.env), domain)
    return c.json(domainJson(checked))
  },
)
