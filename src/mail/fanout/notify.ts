import { database, type Database } from '../../db/client'
import {
  deliveryId,
  insertPendingDeliveries,
  type DeliveryKind,
  type NewDelivery,
} from '../../db/queries/deliveries'
import { findFanoutState, type FanoutState } from '../../db/queries/fanout'
import type { MessageWithHeaders } from '../../db/queries/messages'
import { audienceOf, inboxOwner } from '../privacy'
import { queueDeliveries } from './queueing'

export type { DeliveryJob } from './queueing'
import type { StoredMessage } from '../inbound/arrival'
import { accountShard, inboxShard } from './subscriptions'

/** The bindings notification touches. */
export type NotifyBindings = Pick<Env, 'DB' | 'REALTIME' | 'DELIVERIES'>

export type NotifySummary = { frames: number; queued: string[] }

/**
 * Tells the world about mail that was just stored: publishes it to the live feeds and queues
 * its webhook, Slack and forward deliveries. Call it once per ingest call with the stored
 * messages, after the D1 batch committed; it reads the rows back, so mail that was not
 * stored (or was recycled in between) is never announced. Privacy is decided here, at
 * publish time, from the rows as they are now: public mail goes to its inbox's public feed,
 * private mail only to its owner's hub, for API sockets only when the address has `enablews`
 * on (or it is a catch-all address of an owned domain, which has no per-address setting) and
 * for the owner's web pages always.
 *
 * Never throws (failures are logged): notification is best effort next to the mail, which
 * is already stored and acknowledged, so run it in `ctx.waitUntil` or await it.
 */
export async function notifyStored(
  env: NotifyBindings,
  stored: StoredMessage[],
  now = new Date(),
  /** The state as the storing transaction read it, when nothing can have changed it since. */
  known?: FanoutState,
): Promise<NotifySummary> {
  const summary: NotifySummary = { frames: 0, queued: [] }
  if (stored.length === 0) return summary
  try {
    const db = database(env.DB)
    const { rows, reserved, owned, watched } = known ?? (await findFanoutState(db, stored))
    const addressOf = new Map(reserved.map((address) => [address.email, address]))
    const domainOwner = new Map(owned.map((row) => [row.domain, row.owner]))

    const shards = new Map<string, MessageWithHeaders[]>()
    const publishTo = (shard: string, message: MessageWithHeaders) =>
      shards.set(shard, [...(shards.get(shard) ?? []), message])
    // Private mail of addresses with enablews off: for the owner's web pages only.
    const webOnly: string[] = []
    const jobs: NewDelivery[] = []
    for (const message of rows) {
      const address = addressOf.get(message.inbox)
      const owner = inboxOwner({
        reservedBy: address?.owner ?? null,
        domainOwner: domainOwner.get(message.domain) ?? null,
      })
      const audience = audienceOf(message, owner)
      if (audience.public) {
        // Most public mail is never watched live: only inboxes with sockets cost a DO request.
        if (watched.has(message.inbox)) publishTo(inboxShard(message.inbox), message)
        continue
      }
      publishTo(accountShard(audience.account), message)
      // Webhooks, Slack and forwards are settings of a reserved address, for its owner's mail.
      if (!address || address.owner !== audience.account) continue
      if (!address.enablews) webOnly.push(message.id)
      const targets: [DeliveryKind, string | null][] = [
        ['webhook', address.webhook],
        ['slack', address.webhookSlack],
        ['forward', address.forward],
      ]
      for (const [kind, target] of targets) {
        if (!target) continue
        jobs.push({
          id: deliveryId(message.id, kind),
          address: message.inbox,
          account: audience.account,
          messageId: message.id,
          kind,
          target,
        })
      }
    }

    const [queued, ...published] = await Promise.allSettled([
      enqueue(env, db, jobs, now),
      ...[...shards].map(([shard, batch]) =>
        env.REALTIME.get(env.REALTIME.idFromName(shard)).publish(batch, webOnly),
      ),
    ])
    if (queued.status === 'fulfilled') summary.queued = queued.value
    else console.error(`notify: queueing deliveries failed: ${String(queued.reason)}`)
    for (const result of published) {
      if (result.status === 'fulfilled') summary.frames += result.value
      else console.error(`notify: publishing to a live feed failed: ${String(result.reason)}`)
    }
  } catch (error) {
    console.error(`notify failed: ${(error as Error).message}`)
  }
  return summary
}

/** Records the deliveries as pending, then queues the new ones; returns the ids queued. */
async function enqueue(
  env: NotifyBindings,
  db: Database,
  jobs: NewDelivery[],
  now: Date,
): Promise<string[]> {
  const fresh = await insertPendingDeliveries(db, jobs, now)
  return queueDeliveries(env.DELIVERIES, db, fresh, now)
}
