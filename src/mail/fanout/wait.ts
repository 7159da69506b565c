import type { MessageRow } from '../../db/queries/messages'
import { accountShard, inboxShard } from './subscriptions'

export type WaitBindings = Pick<Env, 'REALTIME'>

export type WaitRequest = {
  inbox: string
  /** The account owning the inbox (its private mail is published to that account's hub). */
  owner: string | null
  /** When to give up (ms epoch). */
  deadline: number
  /**
   * Reads the inbox and returns the matches so far, under the caller's access check; run
   * once after registering and once per arrival, never on a timer.
   */
  read: () => Promise<MessageRow[]>
  /** Whether these matches end the wait. */
  enough: (matches: MessageRow[]) => boolean
}

export type WaitOutcome = { matches: MessageRow[]; timedOut: boolean }

/**
 * Holds a request until `read` finds enough matches or the deadline passes, woken by ingest's
 * publish to the inbox's realtime hub (src/mail/fanout/notify.ts) rather than by polling D1.
 * The order closes the race with mail arriving meanwhile: register with the hub first (which
 * lists a public inbox as followed, so ingest publishes to it), then read D1, then wait; mail
 * stored after the registration is announced, mail stored before it is in the read.
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
    for (;;) {
      const matches = await request.read()
      if (request.enough(matches)) return { matches, timedOut: false }
      if (Date.now() >= request.deadline) return { matches, timedOut: true }
      const arrived = await hub.awaitArrival(id, request.deadline)
      if (!arrived) return { matches, timedOut: true }
    }
  } finally {
    await hub
      .releaseWaiter(id)
      .catch((error: Error) => console.error(`wait: releasing a waiter failed: ${error.message}`))
  }
}
