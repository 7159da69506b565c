import { z } from 'zod'
import { database } from '../db/client'
import type { ReleasedRefs } from '../db/queries/messages'
import {
  deleteExpiredPublicMessages,
  deleteOldestPublicMessages,
  findPublicInboxesOverCap,
} from '../db/queries/retention'
import {
  ARRIVAL_KEY_TTL_MS,
  DEFAULT_PUBLIC_INBOX_MAX_MESSAGES,
  DEFAULT_PUBLIC_RETENTION_HOURS,
  RETENTION_CAP_LOOKBACK_MS,
  RETENTION_DELETE_BATCH,
  RETENTION_MAX_DELETES_PER_RUN,
  RETENTION_MAX_INBOXES_PER_RUN,
  RETENTION_MAX_ORPHAN_BLOBS_PER_RUN,
} from '../limits'
import { deleteArrivalKeysBefore } from '../db/queries/arrival-keys'
import { requeueStranded } from './fanout/queueing'
import { releaseStorage, sweepOrphanBlobs } from './inbound/storage'

export type RetentionBindings = Pick<Env, 'DB' | 'MAIL'> & {
  PUBLIC_RETENTION_HOURS?: string
  PUBLIC_INBOX_MAX_MESSAGES?: string
}

export type RetentionSettings = { publicRetentionHours: number; publicInboxMaxMessages: number }

const wholeNumber = (fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? Number(value) : fallback))
    .pipe(z.number().int().positive())

const settingsSchema = z.object({
  PUBLIC_RETENTION_HOURS: wholeNumber(DEFAULT_PUBLIC_RETENTION_HOURS),
  PUBLIC_INBOX_MAX_MESSAGES: wholeNumber(DEFAULT_PUBLIC_INBOX_MAX_MESSAGES),
})

/**
 * The retention settings from `[vars]`. A malformed value throws rather than falling back to a
 * default: deleting mail on a setting the operator did not write would be worse than not
 * deleting it until the setting is fixed.
 */
export function retentionSettings(env: Omit<RetentionBindings, 'DB' | 'MAIL'>): RetentionSettings {
  const parsed = settingsSchema.safeParse({
    PUBLIC_RETENTION_HOURS: env.PUBLIC_RETENTION_HOURS,
    PUBLIC_INBOX_MAX_MESSAGES: env.PUBLIC_INBOX_MAX_MESSAGES,
  })
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.')
    throw new Error(`${field} must be a whole number greater than 0`)
  }
  return {
    publicRetentionHours: parsed.data.PUBLIC_RETENTION_HOURS,
    publicInboxMaxMessages: parsed.data.PUBLIC_INBOX_MAX_MESSAGES,
  }
}

/** What one run did; `backlog` is true when it stopped at its budget with work left. */
export type RetentionReport = {
  expired: number
  overCap: number
  orphanBlobs: number
  arrivalKeys: number
  backlog: boolean
}

/**
 * One retention run (the Cron Trigger): deletes public, unstarred messages older than
 * `PUBLIC_RETENTION_HOURS`, then the oldest ones of public inboxes holding more than
 * `PUBLIC_INBOX_MAX_MESSAGES`, then attachment blobs left without a message. R2 objects go
 * with their last reference. Bounded by RETENTION_MAX_DELETES_PER_RUN rows so one run never
 * outgrows a scheduled invocation; a backlog drains over the next runs.
 */
export async function runRetention(
  env: RetentionBindings,
  now = new Date(),
  maxDeletes = RETENTION_MAX_DELETES_PER_RUN,
): Promise<RetentionReport> {
  const settings = retentionSettings(env)
  const db = database(env.DB)
  let budget = maxDeletes
  let backlog = false

  const cutoff = new Date(now.getTime() - settings.publicRetentionHours * 3_600_000)
  let expired = 0
  while (budget > 0) {
    const size = Math.min(RETENTION_DELETE_BATCH, budget)
    const gone = await deleteExpiredPublicMessages(db, cutoff, size)
    await releaseStorage(db, env.MAIL, gone, now)
    expired += gone.length
    budget -= gone.length
    if (gone.length < size) break
    backlog = budget === 0
  }

  let overCap = 0
  if (budget > 0) {
    const cap = settings.publicInboxMaxMessages
    const since = new Date(now.getTime() - RETENTION_CAP_LOOKBACK_MS)
    const inboxes = await findPublicInboxesOverCap(db, since, cap, RETENTION_MAX_INBOXES_PER_RUN)
    const trims = []
    for (const { inbox, n } of inboxes) {
      const count = Math.min(n - cap, budget)
      if (count <= 0) break
      trims.push(deleteOldestPublicMessages(db, inbox, count))
      budget -= count
    }
    backlog ||= budget === 0 || inboxes.length === RETENTION_MAX_INBOXES_PER_RUN
    if (trims.length > 0) {
      const [first, ...rest] = trims
      const gone: ReleasedRefs[] = (await db.batch([first, ...rest])).flat()
      await releaseStorage(db, env.MAIL, gone, now)
      overCap = gone.length
    }
  }

  const orphanBlobs = await sweepOrphanBlobs(db, env.MAIL, now, RETENTION_MAX_ORPHAN_BLOBS_PER_RUN)
  const arrivalKeys = await deleteArrivalKeysBefore(
    db,
    new Date(now.getTime() - ARRIVAL_KEY_TTL_MS),
    RETENTION_DELETE_BATCH,
  )
  return { expired, overCap, orphanBlobs, arrivalKeys, backlog }
}

/**
 * The `scheduled()` handler: one retention run at the trigger's time, then the sweep that
 * queues again deliveries whose queueing failed at ingest; logged for `wrangler tail`.
 */
export async function scheduledRetention(
  controller: ScheduledController,
  env: RetentionBindings & Pick<Env, 'DELIVERIES'>,
) {
  const now = new Date(controller.scheduledTime)
  const report = await runRetention(env, now)
  const requeued = await requeueStranded(env.DELIVERIES, database(env.DB), now)
  console.log(`retention ${controller.cron}: ${JSON.stringify({ ...report, requeued })}`)
}
