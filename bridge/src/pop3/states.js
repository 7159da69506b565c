// The RFC 1939 states and the replies every verb handler shares; a module of its own so the
// connection and the verb handlers import it without importing each other.

/** @typedef {'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE'} Pop3State */

/** RFC 1939 section 3: the states a POP3 session moves through. */
export const State = Object.freeze({
  AUTHORIZATION: /** @type {Pop3State} */ ('AUTHORIZATION'),
  TRANSACTION: /** @type {Pop3State} */ ('TRANSACTION'),
  UPDATE: /** @type {Pop3State} */ ('UPDATE'),
})

export const WRONG_STATE = '-ERR command not valid in this state'

/** Dovecot's words for it, which mail clients already know how to show. */
export const CLEARTEXT_REFUSED =
  '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections'
