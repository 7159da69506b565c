import type { BatchItem, BatchResponse } from 'drizzle-orm/batch'
import type { Context } from 'hono'
import { database, type Database } from '../db/client'
import type { Account } from '../db/queries/accounts'
import { holdersFromRows, inboxOwnerQueries } from '../db/queries/addresses'
import { findMessage, type MessageWithHeaders } from '../db/queries/messages'
import { fail } from './errors'
import type { AppEnv } from '../env'
import { normalizeAddress } from '../lib/address'
import { findInboxOwner, inboxOwner, mayOpenInbox, maySeeMessage } from '../mail/privacy'

export type InboxAccess = { inbox: string; owner: string | null; viewerId: string | null }

/** The canonical inbox named by a path parameter, or a 400 naming it. */
export function inboxParam(input: string): string {
  const inbox = normalizeAddress(input)
  if (!inbox) fail(400, `Invalid email address: ${input}`)
  return inbox
}

/**
 * Opens an inbox for `account` and runs `query` on it in the same D1 round trip as the
 * ownership check; the query's result is only returned when access is granted. Public
 * inboxes are open to anyone, even without a key; a private inbox only to its owner (seed:
 * "Returns 401 if owned by other user").
 */
export async function withInboxAccess<Query extends BatchItem<'sqlite'>>(
  db: Database,
  input: string,
  account: Account | null,
  query: (inbox: string, viewerId: string | null) => Query,
): Promise<{ access: InboxAccess; result: BatchResponse<[Query]>[0] }> {
  const inbox = inboxParam(input)
  const viewerId = account?.id ?? null
  const [reservedBy, domainOwner] = inboxOwnerQueries(db, inbox)
  const [reserved, domain, result] = await db.batch([
    reservedBy,
    domainOwner,
    query(inbox, viewerId),
  ])
  return {
    access: grantAccess(inbox, inboxOwner(holdersFromRows(reserved, domain)), account),
    result,
  }
}

/** Opens an inbox for `account` (the ownership check alone, for routes that then write). */
export async function inboxAccess(
  db: Database,
  input: string,
  account: Account | null,
): Promise<InboxAccess> {
  const inbox = inboxParam(input)
  return grantAccess(inbox, await findInboxOwner(db, inbox), account)
}

function grantAccess(inbox: string, owner: string | null, account: Account | null): InboxAccess {
  if (!mayOpenInbox(owner, account?.id ?? null)) {
    fail(401, account ? 'This address is owned by another account.' : 'This address is private.')
  }
  return { inbox, owner, viewerId: account?.id ?? null }
}

/**
 * A message the caller may see, with the inbox access it was read under. A message starred
 * by another account is answered as missing, so its existence does not leak.
 */
export async function visibleMessage(
  db: Database,
  input: string,
  account: Account | null,
  messageId: string,
): Promise<{ access: InboxAccess; message: MessageWithHeaders }> {
  const inbox = inboxParam(input)
  const viewerId = account?.id ?? null
  const [reservedBy, domainOwner] = inboxOwnerQueries(db, inbox)
  const [reserved, domain, found] = await db.batch([
    reservedBy,
    domainOwner,
    findMessage(db, inbox, messageId),
  ])
  const owner = inboxOwner(holdersFromRows(reserved, domain))
  const message = found[0] as MessageWithHeaders | undefined
  // A message someone starred is theirs wherever it is: its starrer opens it even when the
  // inbox has passed to another account since.
  if (message && viewerId && message.savedBy === viewerId) {
    return { access: { inbox, owner, viewerId }, message }
  }
  const access = grantAccess(inbox, owner, account)
  if (!message || !maySeeMessage(message, access.owner, access.viewerId)) {
    fail(404, 'Message not found.')
  }
  return { access, message }
}

/**
 * The message a route names with `:email` and `:messageId`, if its caller may see it (the
 * REST message and content routes and the message web pages all open it this way).
 */
export async function requestedMessage(c: Context<AppEnv>) {
  const db = database(c.env.DB)
  const email = c.req.param('email') as string
  const messageId = c.req.param('messageId') as string
  return { db, ...(await visibleMessage(db, email, c.get('account'), messageId)) }
}
