import { inArray } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { D1_MAX_STATEMENTS_PER_BATCH } from '../../limits'
import { chunks } from '../../lib/chunks'
import { domainOf } from '../../lib/address'
import type { Database } from '../client'
import { byBoundParams } from '../params'
import { domains, messages, privateAddresses } from '../schema'
import { watchedInboxes } from './live-inboxes'
import { selectWithHeaders } from './messages'

/**
 * What announcing stored mail needs, as of now: the rows still present (with their headers),
 * the reservations and domain owners of their inboxes, and which of the inboxes someone
 * follows live. Statements under 100 bound parameters each, all of them in one D1 batch (up
 * to D1_MAX_STATEMENTS_PER_BATCH): one query of the invocation's budget (50 on Workers Free)
 * and one round trip, however many messages a bridge batch stored, since this runs on every
 * ingest before the acknowledgement.
 */
export async function findFanoutState(db: Database, stored: { _id: string; inbox: string }[]) {
  const { statements, decode } = fanoutReads(db, stored)
  const results: unknown[][] = []
  for (const slice of chunks(statements, D1_MAX_STATEMENTS_PER_BATCH)) {
    const [first, ...rest] = slice
    results.push(...((await db.batch([first, ...rest])) as unknown[][]))
  }
  return decode(results)
}

export type FanoutState = Awaited<ReturnType<typeof findFanoutState>>

/**
 * The statements of `findFanoutState` and how to read their results, for a caller that sends
 * them in a batch of its own (ingest, after the rows it inserts in the same transaction).
 */
export function fanoutReads(db: Database, stored: { _id: string; inbox: string }[]) {
  const inboxes = [...new Set(stored.map((message) => message.inbox))]
  const domainNames = [...new Set(inboxes.map(domainOf))]
  const kinds = [
    byBoundParams(
      stored.map((message) => message._id),
      1,
    ).map((ids) => selectWithHeaders(db).where(inArray(messages.id, ids))),
    byBoundParams(inboxes, 1).map((part) =>
      db.select().from(privateAddresses).where(inArray(privateAddresses.email, part)),
    ),
    byBoundParams(domainNames, 1).map((part) =>
      db
        .select({ domain: domains.domain, owner: domains.owner })
        .from(domains)
        .where(inArray(domains.domain, part)),
    ),
    // Binds the inboxes and the socket count.
    byBoundParams(inboxes, 1, 1).map((part) => watchedInboxes(db, part)),
  ] as const
  const statements: BatchItem<'sqlite'>[] = kinds.flat()
  /** The state from the statements' results, in the order they went. */
  const decode = (results: unknown[][]) => {
    let next = 0
    const take = <R>(of: readonly unknown[]): R[] =>
      results.slice(next, (next += of.length)).flat() as R[]
    const rows = take<Awaited<(typeof kinds)[0][number]>[number]>(kinds[0])
    const reserved = take<Awaited<(typeof kinds)[1][number]>[number]>(kinds[1])
    const owned = take<Awaited<(typeof kinds)[2][number]>[number]>(kinds[2])
    const watched = take<Awaited<(typeof kinds)[3][number]>[number]>(kinds[3])
    return { rows, reserved, owned, watched: new Set(watched.map((row) => row.inbox)) }
  }
  return { statements, decode }
}
