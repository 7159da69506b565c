import type { Database } from '../../db/client'
import { findAccount } from '../../db/queries/accounts'
import { deleteOldestOwnedMessages, storedHistory } from '../../db/queries/account-stats'
import { releaseStorage } from './storage'

/**
 * Keeps an account within `messageLimit` (starred messages + all messages on its private
 * inboxes): the oldest unstarred private messages are recycled, never starred ones, and the
 * count is kept on the account (GET /api/me/stats `recycledMessages`) so it is never silent.
 * Returns how many messages were recycled.
 */
export async function enforceMessageLimit(db: Database, bucket: R2Bucket, accountId: string) {
  const account = await findAccount(db, accountId)
  if (!account) return 0
  const excess = (await storedHistory(db, accountId)) - account.messageLimit
  if (excess <= 0) return 0
  const deleted = await deleteOldestOwnedMessages(db, accountId, excess)
  await releaseStorage(db, bucket, deleted)
  return deleted.length
}

/** After mail was stored for accounts' inboxes: applies each account's message limit. */
export async function enforceMessageLimits(
  db: Database,
  bucket: R2Bucket,
  owners: Iterable<string>,
) {
  for (const owner of owners) await enforceMessageLimit(db, bucket, owner)
}
