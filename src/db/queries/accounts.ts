import { eq, sql } from 'drizzle-orm'
import { API_KEY_LENGTH } from '../../limits'
import { sha256Hex } from '../../lib/bytes'
import { randomString } from '../../lib/random'
import type { Database } from '../client'
import { accounts, sessions } from '../schema'
import { sameSecret } from '../../lib/secrets'

export type Account = typeof accounts.$inferSelect

export type NewAccountSettings = {
  messageLimit?: number
  privateAddressCredits?: number
  sendsRemaining?: number
  email?: string | null
}

/** SHA-256 of an API key, hex: the only form in which a key is stored. */
export async function hashApiKey(apiKey: string): Promise<string> {
  return sha256Hex(apiKey)
}

/** A fresh 64-character alphanumeric API key. */
export function generateApiKey(): string {
  return randomString(API_KEY_LENGTH)
}

/**
 * The account an API key belongs to, or null. The lookup goes by the key's hash, then the
 * stored hash is compared in constant time so no timing difference depends on the key.
 */
export async function findAccountByApiKey(db: Database, apiKey: string): Promise<Account | null> {
  if (apiKey.length !== API_KEY_LENGTH || !/^[A-Za-z0-9]+$/.test(apiKey)) return null
  const hash = await hashApiKey(apiKey)
  const account = await db.query.accounts.findFirst({ where: eq(accounts.apiKeyHash, hash) })
  if (!account || !sameSecret(account.apiKeyHash, hash)) return null
  return account
}

export async function findAccount(db: Database, id: string): Promise<Account | null> {
  return (await db.query.accounts.findFirst({ where: eq(accounts.id, id) })) ?? null
}

/** Creates an account; returns it with its API key (the only time the key is visible). */
export async function createAccount(
  db: Database,
  id: string,
  settings: NewAccountSettings,
  now = new Date(),
): Promise<{ account: Account; apiKey: string } | null> {
  const apiKey = generateApiKey()
  const [account] = await db
    .insert(accounts)
    .values({
      id,
      email: settings.email ?? null,
      apiKeyHash: await hashApiKey(apiKey),
      messageLimit: settings.messageLimit,
      privateAddressCredits: settings.privateAddressCredits,
      sendsRemaining: settings.sendsRemaining,
      created: now,
    })
    .onConflictDoNothing()
    .returning()
  return account ? { account, apiKey } : null
}

/** Issues a new API key for an account, revoking the old one. Null when there is no account. */
/**
 * A new key for the account; the old one stops working and every web session of the account
 * ends with it, in one batch: a rotation after a leak must also shut out whoever signed in
 * with the leaked key.
 */
export async function rotateApiKey(db: Database, id: string): Promise<string | null> {
  const apiKey = generateApiKey()
  const [updated] = await db.batch([
    db
      .update(accounts)
      .set({ apiKeyHash: await hashApiKey(apiKey) })
      .where(eq(accounts.id, id))
      .returning({ id: accounts.id }),
    db.delete(sessions).where(eq(sessions.account, id)),
  ])
  return updated.length > 0 ? apiKey : null
}

export async function deleteAccount(db: Database, id: string): Promise<boolean> {
  const deleted = await db
    .delete(accounts)
    .where(eq(accounts.id, id))
    .returning({ id: accounts.id })
  return deleted.length > 0
}

/** Adds `delta` private address credits (negative to spend); false if it would go below 0. */
export async function adjustPrivateAddressCredits(
  db: Database,
  id: string,
  delta: number,
): Promise<boolean> {
  const updated = await db
    .update(accounts)
    .set({ privateAddressCredits: sql`${accounts.privateAddressCredits} + ${delta}` })
    .where(sql`${accounts.id} = ${id} and ${accounts.privateAddressCredits} + ${delta} >= 0`)
    .returning({ id: accounts.id })
  return updated.length > 0
}

/**
 * Spends `count` outbound credits in one conditional UPDATE, so concurrent sends can never
 * take the balance below zero. Returns the balance left, or null when there were too few.
 */
export async function spendSends(db: Database, id: string, count: number): Promise<number | null> {
  const [row] = await db
    .update(accounts)
    .set({ sendsRemaining: sql`${accounts.sendsRemaining} - ${count}` })
    .where(sql`${accounts.id} = ${id} and ${accounts.sendsRemaining} >= ${count}`)
    .returning({ sendsRemaining: accounts.sendsRemaining })
  return row ? row.sendsRemaining : null
}

/** Gives back credits of recipients whose delivery failed; returns the new balance. */
export async function refundSends(db: Database, id: string, count: number): Promise<number | null> {
  const [row] = await db
    .update(accounts)
    .set({ sendsRemaining: sql`${accounts.sendsRemaining} + ${count}` })
    .where(eq(accounts.id, id))
    .returning({ sendsRemaining: accounts.sendsRemaining })
  return row ? row.sendsRemaining : null
}

/**
 * Sets the outbound credit balance (`set`) or adds to it (`add`, negative to take away; the
 * balance never goes below zero). Null when there is no such account or `add` would go below 0.
 */
export async function changeSends(
  db: Database,
  id: string,
  change: { set: number } | { add: number },
): Promise<number | null> {
  const [row] = await db
    .update(accounts)
    .set({
      sendsRemaining:
        'set' in change ? change.set : sql`${accounts.sendsRemaining} + ${change.add}`,
    })
    .where(
      'set' in change
        ? eq(accounts.id, id)
        : sql`${accounts.id} = ${id} and ${accounts.sendsRemaining} + ${change.add} >= 0`,
    )
    .returning({ sendsRemaining: accounts.sendsRemaining })
  return row ? row.sendsRemaining : null
}
