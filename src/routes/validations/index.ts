import { Hono } from 'hono'
import { accountOnly } from '../../http/auth'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { MAX_VALIDATIONS_PER_REQUEST } from '../../limits'
import { validate } from '../../http/validation'
import { describe, json } from '../../http/openapi/describe'
import { resolverFor } from '../../mail/dns'
import { validateAddresses } from '../../mail/validation'
import { EmailAddressIntegrity, EmailAddressIntegrityList, validationsBody } from './schema'

/**
 * `/api/validations`: whether addresses are well formed and disposable (Mailsac's email
 * validation API). An API key is required, as Mailsac requires: each call makes DNS lookups
 * on the caller's behalf, so an anonymous caller could use the Worker as an open resolver.
 */
export const validationsRoutes = new Hono<AppEnv>()

const context = (env: Env) => ({
  db: database(env.DB),
  acceptedSetting: env.ACCEPTED_DOMAINS,
  resolver: resolverFor(env),
})

const DESCRIPTION =
  'Disposable means a domain this service receives mail for, or one on the maintained disposable-email-domains list; the MX hosts (`aliases`, over DNS-over-HTTPS) are checked too.'

validationsRoutes.get(
  '/addresses/:email',
  describe({
    tag: 'Email validation',
    access: 'account',
    summary: 'Validate an email address and whether it is disposable',
    description: DESCRIPTION,
    responses: { 200: json(EmailAddressIntegrity, 'The address checked') },
  }),
  accountOnly,
  async (c) => {
    const [result] = await validateAddresses([c.req.param('email')], context(c.env))
    return c.json(result)
  },
)

validationsRoutes.post(
  '/addresses',
  describe({
    tag: 'Email validation',
    access: 'account',
    summary: `Validate up to ${MAX_VALIDATIONS_PER_REQUEST} email addresses`,
    description: DESCRIPTION,
    responses: { 200: json(EmailAddressIntegrityList, 'One result per address, in request order') },
    failures: { 400: `Invalid emails: Too big: expected array to have <=50 items` },
  }),
  accountOnly,
  validate('json', validationsBody),
  async (c) => {
    return c.json(await validateAddresses(c.req.valid('json').emails, context(c.env)))
  },
)
