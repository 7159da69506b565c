import { WorkerResponseError } from '../worker-client.js'

/**
 * The SMTP reply for each way the Worker can refuse, shared by both SMTP listeners (ingest and
 * submission): a refusal's status means the same thing on every path.
 *
 * Anything that might succeed later is 451, so the sender keeps the message and retries: a 5xx
 * would bounce mail the Worker could still take. The enhanced code (RFC 3463) leads the text,
 * as receiving MTAs such as Postfix read it from there.
 *
 * @typedef {{ code: number, enhanced: string }} ReplyCode
 */

/** The Worker is down, timed out, answered 5xx, or is rate-limiting us: try again later. */
export const TEMPORARY = Object.freeze({ code: 451, enhanced: '4.3.0' })

/** The message is larger than the Worker's limit (RFC 3463 5.3.4: too big for system). */
export const TOO_LARGE = Object.freeze({ code: 552, enhanced: '5.3.4' })

/** @type {Readonly<Record<number, ReplyCode>>} */
const BY_STATUS = Object.freeze({
  // Bad envelope or message: the Worker's message says which.
  400: { code: 554, enhanced: '5.6.0' },
  // The submission client's key no longer opens its account (ingest's own token being refused
  // is reported by the Worker client as unavailable: that is ours to fix, not the sender's).
  401: { code: 550, enhanced: '5.7.1' },
  // Policy: a domain this service does not accept, a sender domain the account may not use.
  403: { code: 550, enhanced: '5.7.1' },
  408: TEMPORARY,
  413: TOO_LARGE,
  429: TEMPORARY,
})

/** Any other refusal (402 no credits, 404, 409, 422 ...): permanent, in the Worker's words. */
const OTHER_REFUSAL = Object.freeze({ code: 554, enhanced: '5.0.0' })

/**
 * The 250 at the end of DATA: the first stored id and how many more, so the reply stays far
 * below RFC 5321 4.5.3.1.5's 512 octets even for 100 recipients (the full list is logged).
 * @param {string[]} ids one per recipient
 */
export function storedReply(ids) {
  const more = ids.length > 1 ? ` (+${ids.length - 1} more)` : ''
  return `2.0.0 OK: stored as ${ids[0]}${more}`
}

/** The text a temporary failure carries; the cause goes to the log, not to the client. */
const TEMPORARY_TEXT = 'Temporary failure storing the message, try again later'

/**
 * An SMTP error smtp-server sends as `responseCode text` (its hooks read `responseCode`).
 * @param {ReplyCode} reply
 * @param {string} text
 * @returns {Error & { responseCode: number }}
 */
export function smtpError(reply, text) {
  return Object.assign(new Error(`${reply.enhanced} ${replyText(text)}`), {
    responseCode: reply.code,
  })
}

/**
 * An injected fault's reply (#17.6): the operator's code, with the enhanced class that matches
 * it (RFC 3463: 4.x.x transient, 5.x.x permanent; X.0.0 is "other or undefined").
 * @param {number} code
 * @param {string} text
 */
export function faultReply(code, text) {
  return smtpError({ code, enhanced: `${Math.floor(code / 100)}.0.0` }, text)
}

/**
 * Maps a failed Worker call to the SMTP reply; anything that is not the Worker's considered
 * refusal (unreachable, timeout, 5xx, a bug of ours) is a temporary failure.
 * @param {unknown} err
 * @param {string} [temporaryText]
 */
export function workerRefusalReply(err, temporaryText = TEMPORARY_TEXT) {
  if (err instanceof WorkerResponseError) {
    const reply = BY_STATUS[err.status] ?? OTHER_REFUSAL
    return smtpError(reply, reply === TEMPORARY ? temporaryText : err.message)
  }
  return smtpError(TEMPORARY, temporaryText)
}

/**
 * SMTP replies are single lines of printable text (RFC 5321 4.2); a Worker message must not
 * inject more, nor push the reply past RFC 5321 4.5.3.1.5's 512 octets.
 * @param {string} text
 */
function replyText(text) {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 400)
}
