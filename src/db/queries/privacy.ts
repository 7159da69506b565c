// The visibility rule of src/mail/privacy.ts, spelled in SQL so lists, counts and searches
// filter in D1 instead of after it. The two spellings must agree: test/mail/privacy.test.ts
// evaluates both over every combination of reservation, domain owner, star and viewer.
import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm'
import { domains, messages, privateAddresses, publicMessage } from '../schema'

/**
 * SQL condition on `messages` rows: the message is public, so it may appear in anything
 * anonymous (mail stats, attachment search, the public live feed, retention). It reads only
 * the row (see `inboxReserved` and `domainOwned` in the schema), so it matches the
 * public-only partial indexes and costs no lookup per row.
 */
export function isPublicMessage(): SQL {
  return publicMessage(messages)
}

/**
 * SQL: the message's inbox belongs to the account: an address it reserved, or an address at a
 * domain it owns that no other account reserved (a reservation wins over a domain, as in
 * `inboxOwner`).
 */
export function inOwnedInbox(accountId: string): SQL {
  return or(
    inArray(
      messages.inbox,
      sql`(select ${privateAddresses.email} from ${privateAddresses} where ${privateAddresses.owner} = ${accountId})`,
    ),
    and(
      inArray(
        messages.domain,
        sql`(select ${domains.domain} from ${domains} where ${domains.owner} = ${accountId})`,
      ),
      sql`not exists (select 1 from ${privateAddresses} where ${privateAddresses.email} = ${messages.inbox} and ${privateAddresses.owner} <> ${accountId})`,
    ),
  ) as SQL
}

/**
 * SQL: of the messages of an inbox the viewer may open, the ones it sees: unstarred ones and
 * its own starred ones. A message starred by another account stays that account's, whoever
 * owns the inbox (`maySeeMessage`).
 */
export function visibleInInbox(viewerId: string | null): SQL {
  if (!viewerId) return isNull(messages.savedBy)
  return or(isNull(messages.savedBy), eq(messages.savedBy, viewerId)) as SQL
}

/** SQL: the account's mail in its own inboxes (what /api/inbox, search and domain views list). */
export function inOwnInboxVisible(accountId: string): SQL {
  return and(inOwnedInbox(accountId), visibleInInbox(accountId)) as SQL
}

/** SQL: all mail that is the account's: in its own inboxes, plus what it starred anywhere. */
export function accountMail(accountId: string): SQL {
  return or(
    eq(messages.savedBy, accountId),
    and(isNull(messages.savedBy), inOwnedInbox(accountId)),
  ) as SQL
}
