import { inArray } from 'drizzle-orm'
import { domainOf } from '../../lib/address'
import type { Database } from '../client'
import { byBoundParams } from '../params'
import { domains, messages, privateAddresses } from '../schema'
import { watchedInboxes } from './live-inboxes'

/**
 * What announcing stored mail needs, as of now: the rows still present, the reservations and
 * domain owners of their inboxes, and which of the inboxes someone follows live. One D1 batch
 * per slice of messages, all sent at once, since this runs on every ingest before the
 * acknowledgement and its latency is the live feed's.
 */
export async function findFanoutState(db: Database, stored: { _id: string; inbox: string }[]) {
  // Each message binds its id, its inbox (twice) and its domain.
  const results = await Promise.all(
    byBoundParams(stored, 4).map((part) => {
      const inboxes = [...new Set(part.map((message) => message.inbox))]
      return db.batch([
        db
          .select()
          .from(messages)
          .where(
            inArray(
              messages.id,
              part.map((message) => message._id),
            ),
          ),
        db.select().from(privateAddresses).where(inArray(privateAddresses.email, inboxes)),
        db
          .select({ domain: domains.domain, owner: domains.owner })
          .from(domains)
          .where(inArray(domains.domain, [...new Set(inboxes.map(domainOf))])),
        watchedInboxes(db, inboxes),
      ])
    }),
  )
  return {
    rows: results.flatMap(([found]) => found),
    reserved: results.flatMap(([, addresses]) => addresses),
    owned: results.flatMap(([, , domainRows]) => domainRows),
    watched: new Set(results.flatMap(([, , , live]) => live.map((row) => row.inbox))),
  }
}
