import { isIP } from 'node:net'

/**
 * Where a password (an API key) may travel in cleartext, for POP3 USER/PASS and AUTH and for
 * SMTP AUTH on the submission port:
 * - `loopback` (the default): only from a client on this machine, as Dovecot treats local
 *   connections as secure; anyone else must use STLS/STARTTLS or implicit TLS first;
 * - `never`: TLS always (also what the tests use to act as a remote client over loopback);
 * - `always`: anywhere, for a private network the operator trusts.
 * @typedef {'loopback' | 'never' | 'always'} CleartextLogin
 */

/** @type {readonly CleartextLogin[]} */
export const CLEARTEXT_LOGIN_MODES = ['loopback', 'never', 'always']

/**
 * @param {string} host an address (or `localhost`)
 * @returns {boolean} whether it is this machine
 */
export function isLoopback(host) {
  if (host === 'localhost') return true
  const v4 = host.replace(/^::ffff:/i, '')
  if (isIP(v4) === 4) return v4.startsWith('127.')
  return host === '::1'
}

/**
 * @param {CleartextLogin} mode
 * @param {string} remoteAddress the client's address
 * @returns {boolean} whether this client may log in without TLS
 */
export function cleartextLoginAllowed(mode, remoteAddress) {
  if (mode === 'always') return true
  if (mode === 'never') return false
  return isLoopback(remoteAddress)
}
