import type { Account } from '../db/queries/accounts'
import { findPrivateAddress } from '../db/queries/addresses'
import { findMessage, type InboxView, type MessageRow } from '../db/queries/messages'
import type { Database } from '../db/client'
import { fail } from '../errors'
import { normalizeAddress } from './address'

export type InboxAccess = { inbox: string; owner: string | null; view: InboxView }

/** The canonical inbox named by a path parameter, or a 400 naming it. */
export function inboxParam(input: string): string {
  const inbox = normalizeAddress(input)
  if (!inbox) fail(400, `Invalid email address: ${input}`)
  return inbox
}

/**
 * Whether `account` may see an inbox. Public inboxes are open to anyone, even without a key;
 * a private inbox only to its owner (seed: "Returns 401 if owned by other user").
 */
export async function inboxAccess(
  db: Database,
  input: string,
  account: Account | null,
): Promise<InboxAccess> {
  const inbox = inboxParam(input)
  const address = await findPrivateAddress(db, inbox)
  const owner = address?.owner ?? null
  if (owner && owner !== account?.id) {
    fail(401, account ? 'This address is owned by another account.' : 'This address is private.')
  }
  return { inbox, owner, view: { viewerId: account?.id ?? null, inboxOwned: owner !== null } }
}

/**
 * A message the caller may see. A message starred by someone else on a public inbox is
 * answered as missing, so its existence does not leak.
 */
export async function visibleMessage(
  db: Database,
  access: InboxAccess,
  messageId: string,
): Promise<MessageRow> {
  const message = await findMessage(db, access.inbox, messageId)
  const hidden =
    message &&
    !access.view.inboxOwned &&
    message.savedBy &&
    message.savedBy !== access.view.viewerId
  if (!message || hidden) fail(404, 'Message not found.')
  return message
}
