import { isIPv6 } from 'node:net'

/** RFC 5322 2.1.1: a header line must not exceed 998 octets (plus CRLF). */
const MAX_HEADER_LINE = 998

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * @typedef {object} TraceFields
 * @property {string} helo the HELO/EHLO name, as the client gave it
 * @property {string} ip the client's address
 * @property {string} by this host's name
 * @property {'SMTP' | 'ESMTP' | 'ESMTPS'} protocol RFC 3848's WITH values
 * @property {string} id the SMTP transaction's id, as the logs name it
 * @property {string[]} recipients
 * @property {Date} date
 */

/**
 * The `Received:` trace field RFC 5321 4.4 asks every SMTP server to prepend: who handed the
 * message over, to which host, how, and when. Each clause sits on its own folded line, so no
 * line nears 998 octets whatever the HELO name or the recipient.
 * @param {TraceFields} fields
 * @returns {string} the header with its CRLF
 */
export function receivedHeader({ helo, ip, by, protocol, id, recipients, date }) {
  const from = printable(helo) || addressLiteral(ip)
  const clauses = [
    `from ${from} (${addressLiteral(ip)})`,
    `by ${printable(by)} (mailsac-edge-bridge)`,
    `with ${protocol} id ${printable(id)}`,
  ]
  // RFC 5321 4.4: "for" names the recipient only when there is exactly one, so a message to
  // many does not tell each of them who else got it.
  const rcpt = recipients.length === 1 ? `for <${recipients[0]}>` : ''
  if (rcpt && !/[\r\n]/.test(rcpt) && rcpt.length < MAX_HEADER_LINE - 10) clauses.push(rcpt)
  clauses[clauses.length - 1] += ';'
  clauses.push(rfc5322Date(date))
  return `Received: ${clauses.join('\r\n\t')}\r\n`
}

/**
 * RFC 5321 4.1.3 address literal: `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
 * @param {string} ip
 */
function addressLiteral(ip) {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (v4) return `[${v4[1]}]`
  return isIPv6(ip) ? `[IPv6:${ip}]` : `[${ip}]`
}

/**
 * The HELO name and our own are the client's or the operator's text: header-safe ASCII only,
 * and no parenthesis that would open or close a comment.
 * @param {string} text
 */
function printable(text) {
  return text.replace(/[^\x21-\x7e]|[()\\]/g, '?').slice(0, 255)
}

/**
 * RFC 5322 3.3 date-time, in UTC with a numeric zone (the "GMT" of toUTCString is obsolete).
 * @param {Date} date
 */
export function rfc5322Date(date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0')
  const day = DAYS[date.getUTCDay()]
  const month = MONTHS[date.getUTCMonth()]
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  return `${day}, ${pad(date.getUTCDate())} ${month} ${date.getUTCFullYear()} ${time} +0000`
}
