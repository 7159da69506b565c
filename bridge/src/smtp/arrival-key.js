import { createHash } from 'node:crypto'

/**
 * The idempotency key of one SMTP transaction, which a sender's retry reproduces: hex SHA-256
 * over `from`, NUL, the recipients in order joined by LF, NUL, then the message bytes exactly as
 * the client sent them (before the bridge's Received header). The Worker stores an arrival once
 * per key, so a 250 lost on the way back, or a 451 after the Worker did store, is not doubled
 * by the retry. The Worker side must compute the same: this is the one definition.
 *
 * Returns a hash already fed with the envelope; feed it the message bytes as they arrive and
 * take `digest('hex')`, so a message spooled to disk is never held whole.
 * @param {string} from
 * @param {string[]} to
 */
export function arrivalKeyHash(from, to) {
  return createHash('sha256').update(`${from}\0${to.join('\n')}\0`, 'utf8')
}

/**
 * `arrivalKeyHash` for a message already in memory.
 * @param {string} from
 * @param {string[]} to
 * @param {Uint8Array} message
 * @returns {string}
 */
export function arrivalKey(from, to, message) {
  return arrivalKeyHash(from, to).update(message).digest('hex')
}
