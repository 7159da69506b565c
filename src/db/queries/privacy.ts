import { sql, type SQL } from 'drizzle-orm'
import { domains, messages, privateAddresses } from '../schema'

/**
 * SQL condition on `messages` rows: the message is public, so it may appear in anything
 * anonymous (mail stats, attachment search, the public live feed). A message is private when
 * its inbox is reserved, its domain is owned by an account, or someone starred it (a starred
 * message is "made private for the user", seed). Every path that shows mail to people other
 * than its owner filters with this one predicate.
 */
export function isPublicMessage(): SQL {
  return sql`(${messages.savedBy} is null
    and not exists (select 1 from ${privateAddresses} where ${privateAddresses.email} = ${messages.inbox})
    and not exists (select 1 from ${domains} where ${domains.domain} = ${messages.domain}))`
}
