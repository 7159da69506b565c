import { and, gt, inArray } from 'drizzle-orm'
import type { Database } from '../client'
import { liveInboxes } from '../schema'

/** Records how many live sockets follow a public inbox (0 once the last one closed). */
export async function recordLiveSockets(db: Database, inbox: string, sockets: number) {
  const updated = new Date()
  await db
    .insert(liveInboxes)
    .values({ inbox, sockets, updated })
    .onConflictDoUpdate({ target: liveInboxes.inbox, set: { sockets, updated } })
}

/** Of `inboxes`, those someone follows live (a query to run or batch). */
export function watchedInboxes(db: Database, inboxes: string[]) {
  return db
    .select({ inbox: liveInboxes.inbox })
    .from(liveInboxes)
    .where(and(inArray(liveInboxes.inbox, inboxes), gt(liveInboxes.sockets, 0)))
}
