import { Hono } from 'hono'
import { accountOnly, requireAccount } from '../../http/auth'
import { database } from '../../db/client'
import { findInboxOwner } from '../../mail/privacy'
import { deliveryJson, listAddressDeliveries } from '../../db/queries/deliveries'
import { fail } from '../../http/errors'
import { inboxParam } from '../../http/inbox-access'
import type { AppEnv } from '../../env'
import { pageQuery, validate } from '../../http/validation'
import { describe, json } from '../../http/openapi/describe'
import { DeliveryList } from '../../http/openapi/schemas'

/** `/api/addresses/:email/webhook-deliveries`: what became of each webhook, Slack post and forward. */
export const deliveriesRoutes = new Hono<AppEnv>()

deliveriesRoutes.get(
  '/:email/webhook-deliveries',
  describe({
    tag: 'Webhooks',
    access: 'account',
    summary: 'List webhook deliveries of an address',
    description:
      'What became of each webhook, Slack post and forward of its mail, newest first. Owner only.',
    responses: { 200: json(DeliveryList, 'Deliveries') },
    failures: { 401: 'Only the owner of this address can see its deliveries.' },
  }),
  accountOnly,
  validate('query', pageQuery),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const email = inboxParam(c.req.param('email'))
    const db = database(c.env.DB)
    // Targets (webhook and Slack URLs) and errors are the owner's business only.
    if ((await findInboxOwner(db, email)) !== account.id) {
      fail(401, 'Only the owner of this address can see its deliveries.')
    }
    const rows = await listAddressDeliveries(db, email, account.id, c.req.valid('query'))
    return c.json(rows.map(deliveryJson))
  },
)
