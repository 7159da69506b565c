// The TRANSACTION state's verbs (RFC 1939 section 5, 7): they read the snapshot taken at
// login and mark deletions, which wait for UPDATE.
import { State, WRONG_STATE } from './states.js'
import { MailStoreError } from './mailbox.js'
import { MessageEncoder } from './message-encoder.js'

/** @typedef {import('./connection.js').Pop3Connection} Session */
/** @typedef {import('./mailbox.js').Mailbox} Mailbox */
/** @typedef {import('./mailbox.js').MailboxMessage} MailboxMessage */

/**
 * RFC 1939 section 5: STAT, TRANSACTION state only.
 * @param {Session} session
 */
export function handleStat(session) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  const { count, octets } = session.totals()
  return session.send(`+OK ${count} ${octets}`)
}

/**
 * RFC 1939 section 5: LIST [msg], TRANSACTION state only.
 * @param {Session} session
 * @param {string} argument
 */
export function handleList(session, argument) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  if (argument) {
    const found = findMessage(session, argument)
    if (typeof found === 'string') return session.send(found)
    return session.send(`+OK ${found.number} ${found.message.size}`)
  }
  const { count, octets } = session.totals()
  const lines = listing(session, (message) => String(message.size))
  return session.sendMultiline(`+OK ${count} messages (${octets} octets)`, lines)
}

/**
 * RFC 1939 section 7: UIDL [msg], TRANSACTION state only. The UID is the Mailsac `_id`.
 * @param {Session} session
 * @param {string} argument
 */
export function handleUidl(session, argument) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  if (argument) {
    const found = findMessage(session, argument)
    if (typeof found === 'string') return session.send(found)
    return session.send(`+OK ${found.number} ${found.message.id}`)
  }
  return session.sendMultiline(
    '+OK unique-id listing follows',
    listing(session, (m) => m.id),
  )
}

/**
 * RFC 1939 section 5: RETR msg, TRANSACTION state only.
 * @param {Session} session
 * @param {string} argument
 */
export function handleRetr(session, argument) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  if (!argument || argument.includes(' ')) return session.send('-ERR usage: RETR msg')
  const found = findMessage(session, argument)
  if (typeof found === 'string') return session.send(found)
  return sendMessage(session, found.message, `+OK ${found.message.size} octets`, Infinity)
}

/**
 * RFC 1939 section 7: TOP msg n, TRANSACTION state only.
 * @param {Session} session
 * @param {string} argument
 */
export function handleTop(session, argument) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  const [number, lines, extra] = argument.split(' ').filter(Boolean)
  if (!number || !lines || extra !== undefined || !/^\d+$/.test(lines)) {
    return session.send('-ERR usage: TOP msg n')
  }
  const found = findMessage(session, number)
  if (typeof found === 'string') return session.send(found)
  return sendMessage(session, found.message, '+OK top of message follows', Number(lines))
}

/**
 * RFC 1939 section 5: DELE msg, TRANSACTION state only; the delete waits for UPDATE.
 * @param {Session} session
 * @param {string} argument
 */
export function handleDele(session, argument) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  const number = parseMessageNumber(argument)
  if (number === null) return session.send('-ERR invalid message number')
  const message = session.messages()[number - 1]
  if (!message) return session.send('-ERR no such message')
  if (message.deleted) return session.send(`-ERR message ${number} already deleted`)
  message.deleted = true
  return session.send(`+OK message ${number} deleted`)
}

/**
 * RFC 1939 section 5: RSET, TRANSACTION state only; unmarks every deleted message.
 * @param {Session} session
 */
export function handleRset(session) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  for (const message of session.messages()) message.deleted = false
  const { count, octets } = session.totals()
  return session.send(`+OK maildrop has ${count} messages (${octets} octets)`)
}

/**
 * RFC 1939 section 5: NOOP, TRANSACTION state only.
 * @param {Session} session
 */
export function handleNoop(session) {
  if (session.state !== State.TRANSACTION) return session.send(WRONG_STATE)
  return session.send('+OK')
}

/**
 * One "n value" line per message not marked as deleted (LIST, UIDL).
 * @param {Session} session
 * @param {(message: MailboxMessage) => string} value
 */
function listing(session, value) {
  /** @type {string[]} */
  const lines = []
  session.messages().forEach((message, i) => {
    if (!message.deleted) lines.push(`${i + 1} ${value(message)}`)
  })
  return lines
}

/**
 * Streams one message from the store through the encoder, honouring socket backpressure, so
 * memory stays flat whatever the message size.
 * @param {Session} session
 * @param {MailboxMessage} message
 * @param {string} statusLine
 * @param {number} bodyLines
 */
async function sendMessage(session, message, statusLine, bodyLines) {
  let raw
  try {
    raw = await session.store.fetch(/** @type {Mailbox} */ (session.mailbox), message)
  } catch (err) {
    if (err instanceof MailStoreError && err.kind === 'gone') {
      return session.send('-ERR no such message, it was removed from the inbox')
    }
    session.log.warn('pop3 fetch failed', { session: session.id, messageId: message.id, err })
    return session.send('-ERR [SYS/TEMP] mail store unavailable, try again later')
  }
  await session.send(statusLine)
  const encoder = new MessageEncoder({ bodyLines })
  try {
    for await (const chunk of raw) {
      const out = encoder.encode(chunk)
      if (out.length) await session.io.write(out)
      // Leaving the loop cancels the download, so TOP stops it too.
      if (encoder.done || session.io.closed) break
    }
  } catch (err) {
    // The +OK is out and part of the message with it: no reply can tell the client the rest
    // is missing, so the connection goes, and the client sees an incomplete response.
    session.log.warn('pop3 stream failed', { session: session.id, messageId: message.id, err })
    session.destroy()
    return
  }
  await session.io.write(Buffer.concat([encoder.finish(), Buffer.from('.\r\n')]))
}

/**
 * @param {Session} session
 * @param {string} argument
 * @returns {{ number: number, message: MailboxMessage } | string} the message or an -ERR line
 */
function findMessage(session, argument) {
  const number = parseMessageNumber(argument)
  if (number === null) return '-ERR invalid message number'
  const message = session.messages()[number - 1]
  // RFC 1939 section 5: a message marked as deleted may not be referred to.
  if (!message || message.deleted) return '-ERR no such message'
  return { number, message }
}

/** @param {string} argument @returns {number | null} */
function parseMessageNumber(argument) {
  const text = argument.trim()
  if (!/^[1-9]\d{0,8}$/.test(text)) return null
  return Number(text)
}
