import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { accounts, domains, messages, privateAddresses } from '../schema'
import { accountMail, inOwnedInbox, inOwnInboxVisible } from './privacy'

/** How many inboxes `recents` keeps. */
const RECENTS_KEPT = 10

/**
 * The inbox each account last recorded in `recents`, and when, per isolate. Concurrent
 * requests all read the account before any of them wrote, so each would write the same row
 * again, and writes to one row queue up behind each other in D1 (200 parallel list calls with
 * one key stalled for 30 s locally). Within RECENTS_DEDUP_MS the write is known to be done or
 * in flight; after it, the account row read by the request is fresh enough to decide.
 */
const lastRecorded = new Map<string, { inbox: string; at: number }>()

/** How long a recorded view makes repeats of it in this isolate skip the write. */
const RECENTS_DEDUP_MS = 5_000

/** Most accounts remembered by `lastRecorded` before it starts over. */
const LAST_RECORDED_KEPT = 10_000

/** Puts an inbox first in the account's recently viewed list (GET /api/me `recents`). */
export async function touchRecents(
  db: Database,
  account: { id: string; recents: string[] },
  inbox: string,
) {
  if (account.recents[0] === inbox) return
  const last = lastRecorded.get(account.id)
  if (last?.inbox === inbox && Date.now() - last.at < RECENTS_DEDUP_MS) return
  if (lastRecorded.size >= LAST_RECORDED_KEPT) lastRecorded.clear()
  lastRecorded.set(account.id, { inbox, at: Date.now() })
  const recents = [inbox, ...account.recents.filter((seen) => seen !== inbox)].slice(
    0,
    RECENTS_KEPT,
  )
  // Only when the row still has another inbox first: concurrent requests from other isolates
  // read the account before any of them wrote, and need not all write it.
  await db
    .update(accounts)
    .set({ recents })
    .where(
      and(
        eq(accounts.id, account.id),
        sql`coalesce(json_extract(${accounts.recents}, '$[0]'), '') <> ${inbox}`,
      ),
    )
}

/** GET /api/me/stats: the seed's fields plus the OpenAPI's `domains` and `inboxBytes`. */
export async function accountStats(db: Database, accountId: string) {
  const [addresses, ownedDomains, stored, starred, nonOwned, account] = await db.batch([
    db
      .select({ email: privateAddresses.email })
      .from(privateAddresses)
      .where(eq(privateAddresses.owner, accountId))
      .orderBy(privateAddresses.email),
    db
      .select({ domain: domains.domain })
      .from(domains)
      .where(eq(domains.owner, accountId))
      .orderBy(domains.domain),
    db
      .select({
        count: sql<number>`count(*)`,
        bytes: sql<number>`coalesce(sum(${messages.size}), 0)`,
      })
      .from(messages)
      .where(inOwnInboxVisible(accountId)),
    db
      .select({ count: sql<number>`count(*)` })
      .from(messages)
      .where(eq(messages.savedBy, accountId)),
    db
      .selectDistinct({ inbox: messages.inbox })
      .from(messages)
      .where(and(eq(messages.savedBy, accountId), sql`not (${inOwnedInbox(accountId)})`))
      .orderBy(messages.inbox),
    db
      .select({ recycled: accounts.recycledMessages })
      .from(accounts)
      .where(eq(accounts.id, accountId)),
  ])
  return {
    storedMessages: stored[0]?.count ?? 0,
    starredMessages: starred[0]?.count ?? 0,
    inboxBytes: stored[0]?.bytes ?? 0,
    recycledMessages: account[0]?.recycled ?? 0,
    addresses: addresses.map((row) => row.email),
    domains: ownedDomains.map((row) => row.domain),
    nonOwnedInboxes: nonOwned.map((row) => row.inbox),
  }
}

/**
 * The account's stored history as `messageLimit` counts it: every message in an inbox it
 * owns, plus the messages it starred elsewhere.
 */
export async function storedHistory(db: Database, accountId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)` })
    .from(messages)
    .where(accountMail(accountId))
  return row?.count ?? 0
}

/** Deletes the `count` oldest unstarred messages of the account's own inboxes. */
export async function deleteOldestOwnedMessages(db: Database, accountId: string, count: number) {
  const oldest = db
    .select({ id: messages.id })
    .from(messages)
    .where(and(isNull(messages.savedBy), inOwnedInbox(accountId)))
    .orderBy(messages.received, messages.id)
    .limit(count)
  const deleted = await db
    .delete(messages)
    .where(inArray(messages.id, oldest))
    .returning({ packKey: messages.packKey, attachments: messages.attachments })
  if (deleted.length > 0) {
    await db
      .update(accounts)
      .set({ recycledMessages: sql`${accounts.recycledMessages} + ${deleted.length}` })
      .where(eq(accounts.id, accountId))
  }
  return deleted
}

/**
 * The labels on the account's mail, sorted (Mailsac's `CurrentUserInfo.labels`). Labels exist
 * only on messages here, so these are the ones in use; the scan is bounded by messageLimit.
 */
export async function accountLabels(db: Database, accountId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ label: sql<string>`label.value` })
    .from(sql`${messages}, json_each(${messages.labels}) as label`)
    .where(accountMail(accountId))
    .orderBy(sql`label.value`)
  return rows.map((row) => row.label)
}
