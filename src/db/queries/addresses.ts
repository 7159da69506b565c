import { eq, inArray, or } from 'drizzle-orm'
import { domainOf } from '../../mail/address'
import { randomString } from '../../mail/random'
import type { Database } from '../client'
import { privateAddresses } from '../schema'

export type PrivateAddress = typeof privateAddresses.$inferSelect

export async function findPrivateAddress(db: Database, email: string) {
  return (
    (await db.query.privateAddresses.findFirst({ where: eq(privateAddresses.email, email) })) ??
    null
  )
}

/** The private addresses that any of `addresses` names, directly or by its encryptedInbox. */
export async function findPrivateAddressesFor(db: Database, addresses: string[]) {
  if (addresses.length === 0) return []
  return db
    .select()
    .from(privateAddresses)
    .where(
      or(
        inArray(privateAddresses.email, addresses),
        inArray(privateAddresses.encryptedInbox, addresses),
      ),
    )
}

/** Inserts a reservation; null when the address is already reserved (by anyone). */
export async function insertPrivateAddress(
  db: Database,
  email: string,
  owner: string,
  now = new Date(),
): Promise<PrivateAddress | null> {
  const domain = domainOf(email)
  // 40 hex characters: unguessable, and shaped like Mailsac's `inbox-<hex>@domain`.
  const encryptedInbox = `inbox-${randomString(40, '0123456789abcdef')}@${domain}`
  const [row] = await db
    .insert(privateAddresses)
    .values({ email, owner, domain, encryptedInbox, created: now, updated: now })
    .onConflictDoNothing()
    .returning()
  return row ?? null
}

export async function deletePrivateAddress(db: Database, email: string, owner: string) {
  const deleted = await db
    .delete(privateAddresses)
    .where(eq(privateAddresses.email, email))
    .returning({ owner: privateAddresses.owner })
  return deleted.length > 0 && deleted[0].owner === owner
}

/** The Mailsac address object. */
export function addressJson(address: PrivateAddress) {
  return {
    _id: address.email,
    owner: address.owner,
    created: address.created.toISOString(),
    updated: address.updated.toISOString(),
    enablews: address.enablews,
    forward: address.forward,
    webhook: address.webhook,
    webhookSlack: address.webhookSlack,
    webhookSlackToFrom: address.webhookSlackToFrom,
    encryptedInbox: address.encryptedInbox,
    info: address.info,
  }
}
