import { Hono } from 'hono'
import { requireAccount } from '../auth'
import { database } from '../db/client'
import { adjustPrivateAddressCredits } from '../db/queries/accounts'
import {
  addressJson,
  deletePrivateAddress,
  findPrivateAddress,
  insertPrivateAddress,
} from '../db/queries/addresses'
import { fail } from '../errors'
import { inboxParam } from '../mail/policy'
import type { AppEnv } from '../types'
import { privateAddresses } from '../db/schema'
import { eq } from 'drizzle-orm'

/** Private addresses: `/api/addresses` and `/api/addresses/:email[/availability]`. */
export const addressesRoutes = new Hono<AppEnv>()

addressesRoutes.get('/', async (c) => {
  const account = requireAccount(c.get('account'))
  const rows = await database(c.env.DB)
    .select()
    .from(privateAddresses)
    .where(eq(privateAddresses.owner, account.id))
    .orderBy(privateAddresses.email)
  return c.json(rows.map(addressJson))
})

addressesRoutes.get('/:email/availability', async (c) => {
  const email = inboxParam(c.req.param('email'))
  const owned = (await findPrivateAddress(database(c.env.DB), email)) !== null
  return c.json({ available: !owned, email, owned })
})

addressesRoutes.get('/:email', async (c) => {
  const email = inboxParam(c.req.param('email'))
  const account = c.get('account')
  const address = await findPrivateAddress(database(c.env.DB), email)
  if (!address) {
    // OpenAPI: an address nobody owns is still an object, without the `owner` key.
    return c.json({ _id: email, enablews: false, forward: null, webhook: null, webhookSlack: null })
  }
  if (address.owner !== account?.id) fail(401, 'This address is owned by another account.')
  return c.json(addressJson(address))
})

addressesRoutes.post('/:email', async (c) => {
  const account = requireAccount(c.get('account'))
  const email = inboxParam(c.req.param('email'))
  const db = database(c.env.DB)
  const conflict = async () => {
    const existing = await findPrivateAddress(db, email)
    if (existing?.owner === account.id) fail(400, 'You already own this address.')
    if (existing) fail(401, 'This address is owned by another account.')
  }
  await conflict()
  if (!(await adjustPrivateAddressCredits(db, account.id, -1))) {
    fail(400, 'No private address credits left: release an address or add credits.')
  }
  const address = await insertPrivateAddress(db, email, account.id)
  if (!address) {
    // Lost a race with another reservation: give the credit back and say who won.
    await adjustPrivateAddressCredits(db, account.id, 1)
    await conflict()
    fail(409, 'The address was reserved concurrently; try again.')
  }
  return c.json(addressJson(address))
})

addressesRoutes.delete('/:email', async (c) => {
  const account = requireAccount(c.get('account'))
  const email = inboxParam(c.req.param('email'))
  const db = database(c.env.DB)
  const existing = await findPrivateAddress(db, email)
  if (!existing) fail(400, 'This address is not reserved.')
  if (existing.owner !== account.id) fail(401, 'This address is owned by another account.')
  if (await deletePrivateAddress(db, email, account.id)) {
    await adjustPrivateAddressCredits(db, account.id, 1)
  }
  return c.json({ _id: email, message: 'Address was released.' })
})
