import { and, eq, inArray, isNull, or } from 'drizzle-orm'
import { byBoundParams } from '../params'
import { D1_MAX_STATEMENTS_PER_BATCH } from '../../limits'
import { domainOf } from '../../lib/address'
import { randomString } from '../../lib/random'
import type { Database } from '../client'
import { domains, privateAddresses } from '../schema'

export type PrivateAddress = typeof privateAddresses.$inferSelect

/**
 * Who owns an inbox, as two queries to batch: the account that reserved the address, and the
 * account that owns its domain (a catch-all). `holdersFromRows` combines their results.
 */
export function inboxOwnerQueries(db: Database, inbox: string) {
  return [
    db
      .select({ owner: privateAddresses.owner })
      .from(privateAddresses)
      .where(eq(privateAddresses.email, inbox)),
    db
      .select({ owner: domains.owner })
      .from(domains)
      .where(eq(domains.domain, domainOf(inbox))),
  ] as const
}

/** Who holds an inbox, from `inboxOwnerQueries` results. */
export function holdersFromRows(
  reserved: { owner: string }[],
  domain: { owner: string }[],
): { reservedBy: string | null; domainOwner: string | null } {
  return { reservedBy: reserved[0]?.owner ?? null, domainOwner: domain[0]?.owner ?? null }
}

/** Who holds an inbox: the account that reserved it and the owner of its domain. */
export async function findInboxHolders(db: Database, inbox: string) {
  const [reserved, domain] = await db.batch(inboxOwnerQueries(db, inbox))
  return holdersFromRows(reserved, domain)
}

export async function findPrivateAddress(db: Database, email: string) {
  return (
    (await db.query.privateAddresses.findFirst({ where: eq(privateAddresses.email, email) })) ??
    null
  )
}

/**
 * Who owns the given recipients: the private addresses they name (directly or by their
 * encryptedInbox) and the owners of their domains. One D1 round trip per 30 recipients.
 */
export async function findOwnershipFor(db: Database, recipients: string[]) {
  // Each recipient is bound three times (address, alias, domain); every chunk's statements go
  // in one batch, so a bridge batch's recipients cost one D1 round trip, not one per chunk.
  const chunked = byBoundParams(recipients, 3)
  const [reservedQueries, ownedQueries] = [
    chunked.map((chunk) =>
      db
        .select()
        .from(privateAddresses)
        .where(
          or(
            inArray(privateAddresses.email, chunk),
            inArray(privateAddresses.encryptedInbox, chunk),
          ),
        ),
    ),
    chunked.map((chunk) =>
      db
        .select({ domain: domains.domain, owner: domains.owner })
        .from(domains)
        .where(inArray(domains.domain, [...new Set(chunk.map(domainOf))])),
    ),
  ]
  const addresses: PrivateAddress[] = []
  const domainOwners: { domain: string; owner: string }[] = []
  // At most MAX_BATCH_MESSAGES x MAX_RECIPIENTS_PER_MESSAGE recipients: ~600 statements.
  for (let i = 0; i < chunked.length; i += D1_MAX_STATEMENTS_PER_BATCH / 2) {
    const reserved = reservedQueries.slice(i, i + D1_MAX_STATEMENTS_PER_BATCH / 2)
    const owned = ownedQueries.slice(i, i + D1_MAX_STATEMENTS_PER_BATCH / 2)
    const [first, ...rest] = [...reserved, ...owned]
    const results = await db.batch([first, ...rest])
    addresses.push(...(results.slice(0, reserved.length).flat() as PrivateAddress[]))
    domainOwners.push(
      ...(results.slice(reserved.length).flat() as { domain: string; owner: string }[]),
    )
  }
  return { addresses, domainOwners }
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

/** The private addresses of an account, by address. */
export function listPrivateAddresses(db: Database, owner: string) {
  return db
    .select()
    .from(privateAddresses)
    .where(eq(privateAddresses.owner, owner))
    .orderBy(privateAddresses.email)
}
/**
 * The address's webhook signing key, creating it (with `newSecret`) for addresses reserved
 * before keys existed; a concurrent creator's key wins, so every attempt signs with one key.
 */
export async function ensureWebhookSecret(
  db: Database,
  address: PrivateAddress,
  newSecret: () => string,
): Promise<string> {
  if (address.webhookSecret) return address.webhookSecret
  await db
    .update(privateAddresses)
    .set({ webhookSecret: newSecret() })
    .where(and(eq(privateAddresses.email, address.email), isNull(privateAddresses.webhookSecret)))
  const current = await findPrivateAddress(db, address.email)
  if (!current?.webhookSecret) throw new Error('The webhook secret could not be stored.')
  return current.webhookSecret
}

/** The reservations among `emails`. */
export function findPrivateAddresses(db: Database, emails: string[]): Promise<PrivateAddress[]> {
  if (emails.length === 0) return Promise.resolve([])
  return db.select().from(privateAddresses).where(inArray(privateAddresses.email, emails))
}

/** Writes an address's settings; returns the updated row. */
export async function updateAddressSettings(
  db: Database,
  email: string,
  settings: Partial<Omit<PrivateAddress, 'email' | 'owner' | 'domain' | 'created'>>,
): Promise<PrivateAddress> {
  const [updated] = await db
    .update(privateAddresses)
    .set({ ...settings, updated: new Date() })
    .where(eq(privateAddresses.email, email))
    .returning()
  return updated
}

/** Gives an address a new webhook signing key, if `owner` holds it; null otherwise. */
export async function rotateWebhookSecret(
  db: Database,
  email: string,
  owner: string,
  webhookSecret: string,
): Promise<PrivateAddress | null> {
  const [updated] = await db
    .update(privateAddresses)
    .set({ webhookSecret, updated: new Date() })
    .where(and(eq(privateAddresses.email, email), eq(privateAddresses.owner, owner)))
    .returning()
  return updated ?? null
}
