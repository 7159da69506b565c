import type { SQL } from 'drizzle-orm'
import { messages, publicMessage } from '../schema'

/**
 * SQL condition on `messages` rows: the message is public, so it may appear in anything
 * anonymous (mail stats, attachment search, the public live feed, retention). Every path
 * that shows mail to people other than its owner filters with this one predicate. It reads
 * only the row (see `inboxReserved` and `domainOwned` in the schema), so it matches the
 * public-only partial indexes and costs no lookup per row.
 */
export function isPublicMessage(): SQL {
  return publicMessage(messages)
}
