import type { MessageWithHeaders } from '../../db/queries/messages'
import { accountShard, inboxShard } from './subscriptions'

export type WaitBindings = Pick<Env, 'REALTIME'>

export type WaitRequest = {
  inbox: string
  /** The account owning the inbox (its private mail is published to that account's hub). */
  owner: string | null
  /** When to give up (ms epoch). */
  deadline: number
  /**
   * Reads the inbox and returns the matches so far, under the caller's access check; run once
   * after registering (and again only if the hub lost track of the waiter), never on a timer.
   */
  read: () => Promise<MessageWithHeaders[]>
  /**
   * The matches among messages the hub announced for this inbox, checked in memory (filter,
   * window and the privacy rule), so an arrival costs no D1 read.
   */
  match: (arrived: MessageWithHeaders[]) => Promise<MessageWithHeaders[]>
  /** Whether these matches end the wait. */
  enough: (matches: MessageWithHeaders[]) => boolean
  /** Most matches to answer. */
  limit: number
  /** Runs work after the response (the hub's release); awaited when absent. */
  defer?: (work: Promise<unknown>) => void
}

export type WaitOutcome = { matches: MessageWithHeaders[]; timedOut: boolean }

/**
 * Holds a request until enough matches are in or the deadline passes, woken by ingest's
 * publish to the inbox's realtime hub (src/mail/fanout/notify.ts) rather than by polling D1.
 * The order closes the race with mail arriving meanwhile: register with the hub first (which
 * lists a public inbox as followed, so ingest publishes to it), then read D1, then wait; mail
 * stored after the registration is announced with its row, mail stored before it is in the
 * read (a message both read and announced counts once).
 */
export async function waitForMessages(
  env: WaitBindings,
  request: WaitRequest,
): Promise<WaitOutcome> {
  const shard = request.owner ? accountShard(request.owner) : inboxShard(request.inbox)
  const hub = env.REALTIME.get(env.REALTIME.idFromName(shard))
  const id = crypto.randomUUID()
  await hub.registerWaiter(id, request.inbox, request.owner === null, request.deadline)
  try {
    let matches = await request.read()
    for (;;) {
      if (request.enough(matches)) return { matches, timedOut: false }
      if (Date.now() >= request.deadline) return { matches, timedOut: true }
      const arrival = await hub.awaitArrival(id, request.deadline)
      if (!arrival) return { matches, timedOut: true }
      if ('reread' in arrival) {
        matches = await request.read()
        continue
      }
      const known = new Set(matches.map((message) => message.id))
      // The rows crossed the RPC by structured clone, intact; its types only widen the tuples.
      const arrived = arrival.messages as MessageWithHeaders[]
      const fresh = (await request.match(newestFirst(arrived))).filter(
        (message) => !known.has(message.id),
      )
      matches = [...fresh, ...matches].slice(0, request.limit)
    }
  } finally {
    // The response need not wait for the release: a public inbox left listed a moment too
    // long costs ingest one unneeded publish, never a lost message.
    const release = hub
      .releaseWaiter(id)
      .catch((error: Error) => console.error(`wait: releasing a waiter failed: ${error.message}`))
    if (request.defer) request.defer(release)
    else await release
  }
}

function newestFirst(messages: MessageWithHeaders[]): MessageWithHeaders[] {
  return [...messages].sort((a, b) => b.received.getTime() - a.received.getTime())
}
