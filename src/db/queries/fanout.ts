import { inArray } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { D1_MAX_STATEMENTS_PER_BATCH } from '../../limits'
import { chunks } from '../../lib/chunks'
import { domainOf } from '../../lib/address'
import type { Database } from '../client'
import { byBoundParams } from '../params'
import { domains, messages, privateAddresses } from '../schema'
import { watchedInboxes } from './live-inboxes'

/**
 * What announcing stored mail needs, as of now: the rows still present, the reservations and
 * domain owners of their inboxes, and which of the inboxes someone follows live. Each kind is
 * one D1 batch of statements under 100 bound parameters each, the four sent at once: a batch
 * is one query of the invocation's budget (50 on Workers Free), however many messages a
 * bridge batch stored, and this runs on every ingest before the acknowledgement.
 */
export async function findFanoutState(db: Database, stored: { _id: string; inbox: string }[]) {
  const inboxes = [...new Set(stored.map((message) => message.inbox))]
  const domainNames = [...new Set(inboxes.map(domainOf))]
  const [rows, reserved, owned, watched] = await Promise.all([
    inBatches(
      byBoundParams(
        stored.map((message) => message._id),
        1,
      ).map((ids) => db.select().from(messages).where(inArray(messages.id, ids))),
      db,
    ),
    inBatches(
      byBoundParams(inboxes, 1).map((part) =>
        db.select().from(privateAddresses).where(inArray(privateAddresses.email, part)),
      ),
      db,
    ),
    inBatches(
      byBoundParams(domainNames, 1).map((part) =>
        db
          .select({ domain: domains.domain, owner: domains.owner })
          .from(domains)
          .where(inArray(domains.domain, part)),
      ),
      db,
    ),
    // Binds the inboxes and the socket count.
    inBatches(
      byBoundParams(inboxes, 1, 1).map((part) => watchedInboxes(db, part)),
      db,
    ),
  ])
  return { rows, reserved, owned, watched: new Set(watched.map((row) => row.inbox)) }
}

/** Runs same-shaped read statements in as few D1 batches as the statement budget allows. */
async function inBatches<R>(
  queries: (BatchItem<'sqlite'> & PromiseLike<R[]>)[],
  db: Database,
): Promise<R[]> {
  const out: R[] = []
  for (const slice of chunks(queries, D1_MAX_STATEMENTS_PER_BATCH)) {
    const [first, ...rest] = slice
    for (const result of await db.batch([first, ...rest])) out.push(...(result as R[]))
  }
  return out
}
