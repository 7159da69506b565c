import type { Database } from '../../db/client'
import { findUnqueuedDeliveries, markQueued } from '../../db/queries/deliveries'
import { chunks } from '../../lib/chunks'
import { DELIVERY_REQUEUE_AFTER_MS, DELIVERY_REQUEUE_PER_RUN } from '../../limits'

/** The body of a message on the deliveries queue: everything else is read from D1. */
export type DeliveryJob = { deliveryId: string }

/** Queues take at most 100 messages per sendBatch call. */
const QUEUE_BATCH = 100

/**
 * Hands pending deliveries to the queue and records which went; returns those ids. A failed
 * sendBatch is logged and leaves its rows unqueued (`queued_at` null) for `requeueStranded`:
 * a queue blip at ingest must not lose a webhook, Slack post or forward.
 */
export async function queueDeliveries(
  queue: Queue,
  db: Database,
  ids: string[],
  now: Date,
): Promise<string[]> {
  const queued: string[] = []
  for (const part of chunks(ids, QUEUE_BATCH)) {
    try {
      await queue.sendBatch(
        part.map((id) => ({ body: { deliveryId: id } satisfies DeliveryJob, contentType: 'json' })),
      )
    } catch (error) {
      console.error(`queueing ${part.length} deliveries failed: ${(error as Error).message}`)
      continue
    }
    queued.push(...part)
    // Were this write lost, the sweep would queue them again: at least once, as promised.
    await markQueued(db, part, now).catch((error: Error) =>
      console.error(`recording queued deliveries failed: ${error.message}`),
    )
  }
  return queued
}

/**
 * The cron sweep: queues again the pending deliveries whose sendBatch failed. Rows younger
 * than DELIVERY_REQUEUE_AFTER_MS are left alone, so the sweep never races an ingest still
 * queueing its own rows.
 */
export async function requeueStranded(
  queue: Queue,
  db: Database,
  now = new Date(),
): Promise<number> {
  const before = new Date(now.getTime() - DELIVERY_REQUEUE_AFTER_MS)
  const stranded = await findUnqueuedDeliveries(db, before, DELIVERY_REQUEUE_PER_RUN)
  const queued = await queueDeliveries(
    queue,
    db,
    stranded.map((row) => row.id),
    now,
  )
  return queued.length
}
