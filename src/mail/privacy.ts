import type { Database } from '../db/client'
import { findInboxHolders } from '../db/queries/addresses'

// Who may see a message: the one rule every path asks (REST, pages, websocket, POP3 through
// REST, stats, notify). Its SQL spelling is src/db/queries/privacy.ts; a test holds the two
// together.
//
// - An inbox is private when an account reserved its address, or owns its domain (a
//   catch-all); a reservation wins over a domain owner. Otherwise it is public.
// - A public inbox is open to anyone, with or without a key; a private one to its owner only.
// - A starred message belongs to the account that starred it, wherever it is and whoever owns
//   the inbox later: only that account sees it (Mailsac: starring makes a message "private for
//   the user").
// - Everything else in an inbox is seen by whoever may open the inbox.

/** Who holds an inbox: the reserving account and the owner of its domain, if any. */
export type InboxHolders = { reservedBy: string | null; domainOwner: string | null }

/** The account an inbox is private to, or null for a public inbox. */
export function inboxOwner({ reservedBy, domainOwner }: InboxHolders): string | null {
  return reservedBy ?? domainOwner ?? null
}

/** The account an inbox is private to (one D1 round trip), or null for a public inbox. */
export async function findInboxOwner(db: Database, inbox: string): Promise<string | null> {
  return inboxOwner(await findInboxHolders(db, inbox))
}

/** Whether `viewerId` (null: anonymous) may open an inbox owned by `owner`. */
export function mayOpenInbox(owner: string | null, viewerId: string | null): boolean {
  return owner === null || owner === viewerId
}

/** Whether `viewerId` may see a message of an inbox owned by `owner`. */
export function maySeeMessage(
  message: { savedBy: string | null },
  owner: string | null,
  viewerId: string | null,
): boolean {
  if (message.savedBy) return message.savedBy === viewerId
  return mayOpenInbox(owner, viewerId)
}

/**
 * Who a message is shown to, as the live feeds shard it: everyone (the inbox's public feed)
 * or one account (that account's private feed).
 */
export type Audience = { public: true } | { public: false; account: string }

export function audienceOf(message: { savedBy: string | null }, owner: string | null): Audience {
  const account = message.savedBy ?? owner
  return account ? { public: false, account } : { public: true }
}
