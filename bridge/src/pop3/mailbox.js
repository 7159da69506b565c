import { LIST_PAGE_SIZE, MAX_SNAPSHOT_MESSAGES } from '../limits.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../worker-client.js').Caller} Caller */

/**
 * @typedef {object} MailboxMessage
 * @property {string} id the Mailsac message `_id`, used as the UIDL
 * @property {number} size octets as RETR sends them, before dot-stuffing
 * @property {boolean} deleted marked by DELE, removed at QUIT
 */

/**
 * One session's view of an inbox, fixed at login.
 * @typedef {object} Mailbox
 * @property {string} inbox the normalised address
 * @property {Caller} caller who the Worker serves: the key that opened it (null: public) and
 *   the POP3 client's address
 * @property {MailboxMessage[]} messages oldest first; message n is messages[n - 1]
 */

/**
 * What the mail store refused, in the terms a POP3 reply needs (RFC 3206 response codes):
 * `auth` the credentials, `gone` the message no longer exists, `unavailable` try again later.
 */
export class MailStoreError extends Error {
  /** @param {'auth' | 'gone' | 'unavailable'} kind @param {string} message @param {unknown} [cause] */
  constructor(kind, message, cause) {
    super(message, { cause })
    this.name = 'MailStoreError'
    this.kind = kind
  }
}

/**
 * Everything a POP3 session needs from storage. The connection makes no storage call of its
 * own, so the protocol can be read (and tested) apart from the Worker it happens to talk to.
 * @typedef {object} MailStore
 * @property {(inbox: string, password: string, clientIp: string) => Promise<Mailbox>} open
 *   checks the credentials and takes the snapshot; throws MailStoreError
 * @property {(mailbox: Mailbox, message: MailboxMessage) => Promise<AsyncIterable<Uint8Array> & { destroy(): void }>} fetch
 *   the raw message as stored; throws MailStoreError
 * @property {(mailbox: Mailbox, messages: MailboxMessage[]) => Promise<number>} remove
 *   deletes at UPDATE; resolves with how many could not be removed
 * @property {(inbox: string) => boolean} lock RFC 1939 section 4's exclusive lock; false if held
 * @property {(inbox: string) => void} unlock
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
 * @param {Caller} caller
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
      // RFC 1939 section 5 counts the message as sent, CRLF line endings included: only the
      // Worker, which holds the bytes, can know that without a download per message at login.
      const size = Number(message.crlfSize ?? message.size) || 0
      byId.set(message._id, { id: message._id, size, deleted: false })
      added++
    }
    if (page.length < LIST_PAGE_SIZE || added === 0) break
    const oldest = Date.parse(page[page.length - 1].received)
    if (Number.isNaN(oldest)) break
    until = new Date(oldest + 1).toISOString()
  }
  return [...byId.values()].reverse()
}
