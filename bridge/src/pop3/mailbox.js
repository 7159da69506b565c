import { LIST_PAGE_SIZE, MAX_SNAPSHOT_MESSAGES } from '../limits.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */

/**
 * @typedef {object} MailboxMessage
 * @property {string} id the Mailsac message `_id`, used as the UIDL
 * @property {number} size raw byte length as stored by the Worker
 * @property {boolean} deleted marked by DELE, removed at QUIT
 */

/**
 * Lists the whole inbox once, oldest first, so message numbers stay fixed for the session
 * (RFC 1939 section 5: numbers never change during a session).
 *
 * The list API is newest first and pages with `until`, which is strictly older than the given
 * date. Messages received in the same millisecond could straddle a page boundary, so each next
 * page starts one millisecond later than the last item and duplicates are dropped by id.
 *
 * @param {WorkerClient} worker
 * @param {string} email
 * @param {import('../worker-client.js').Caller} caller
 * @returns {Promise<MailboxMessage[]>}
 */
export async function loadMailbox(worker, email, caller) {
  /** @type {Map<string, MailboxMessage>} */
  const byId = new Map()
  /** @type {string | undefined} */
  let until
  while (byId.size < MAX_SNAPSHOT_MESSAGES) {
    const page = await worker.listMessages(email, caller, { limit: LIST_PAGE_SIZE, until })
    let added = 0
    for (const message of page) {
      if (byId.has(message._id)) continue
      byId.set(message._id, { id: message._id, size: Number(message.size) || 0, deleted: false })
      added++
    }
    if (page.length < LIST_PAGE_SIZE || added === 0) break
    const oldest = Date.parse(page[page.length - 1].received)
    if (Number.isNaN(oldest)) break
    until = new Date(oldest + 1).toISOString()
  }
  return [...byId.values()].reverse()
}
