// Queries for state that changes hands: a domain claimed or removed, an account deleted.
import { and, eq, inArray, isNull, ne, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { messages, privateAddresses } from '../schema'
import { accountMail } from './privacy'

const released = { packKey: messages.packKey, attachments: messages.attachments }

/** How many addresses at `domain` accounts other than `accountId` hold reserved. */
export async function countOtherReservations(db: Database, domain: string, accountId: string) {
  const [row] = await db
    .select({ count: sql<number>`count(*)` })
    .from(privateAddresses)
    .where(and(eq(privateAddresses.domain, domain), ne(privateAddresses.owner, accountId)))
  return row?.count ?? 0
}

/**
 * Deletes up to `limit` messages of a domain's catch-all: unstarred mail in inboxes nobody
 * reserved, which would turn public once the domain has no owner. Reserved inboxes keep their
 * mail (it stays its reserver's) and starred mail stays with who starred it.
 */
export function deleteCatchAllMail(db: Database, domain: string, limit: number) {
  const doomed = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      and(
        eq(messages.domain, domain),
        isNull(messages.savedBy),
        sql`not exists (select 1 from ${privateAddresses} where ${privateAddresses.email} = ${messages.inbox})`,
      ),
    )
    .limit(limit)
  return db.delete(messages).where(inArray(messages.id, doomed)).returning(released)
}

/**
 * Deletes up to `limit` of an account's mail: its inboxes' mail (reserved addresses and the
 * catch-all of its domains) and what it starred anywhere. Run before the account row goes,
 * since "its inboxes" are read from its reservations and domains.
 */
export function deleteAccountMail(db: Database, accountId: string, limit: number) {
  const doomed = db
    .select({ id: messages.id })
    .from(messages)
    .where(accountMail(accountId))
    .limit(limit)
  return db.delete(messages).where(inArray(messages.id, doomed)).returning(released)
}
