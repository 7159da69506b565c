// The AUTHORIZATION state's verbs (RFC 1939 section 4, 7; RFC 2595 STLS; RFC 5034 AUTH).
import { normalizeAddress } from '../address.js'
import { CLEARTEXT_REFUSED, State, WRONG_STATE } from './states.js'
import { decodeSaslPlain } from './sasl-plain.js'

/** @typedef {import('./connection.js').Pop3Connection} Session */

/**
 * RFC 1939 section 7: USER name, AUTHORIZATION state only.
 * @param {Session} session
 * @param {string} argument
 */
export function handleUser(session, argument) {
  if (session.state !== State.AUTHORIZATION) return session.send(WRONG_STATE)
  if (!session.cleartextOk()) return session.send(CLEARTEXT_REFUSED)
  const user = normalizeAddress(argument)
  if (!user) return session.send('-ERR USER requires an email address')
  session.user = user
  return session.send('+OK send the API key with PASS')
}

/**
 * RFC 1939 section 7: PASS string, AUTHORIZATION state, only right after a successful USER.
 * @param {Session} session
 * @param {string} argument
 */
export async function handlePass(session, argument) {
  if (session.state !== State.AUTHORIZATION) return session.send(WRONG_STATE)
  if (!session.cleartextOk()) return session.send(CLEARTEXT_REFUSED)
  if (!session.user) return session.send('-ERR send USER first')
  const user = session.user
  // RFC 1939: a failed PASS sends the client back to USER.
  session.user = null
  if (!argument) return session.send('-ERR [AUTH] PASS requires the API key')
  return session.login(user, argument)
}

/**
 * RFC 5034 section 4: AUTH mechanism [initial-response], AUTHORIZATION state only.
 * @param {Session} session
 * @param {string} argument
 */
export async function handleAuth(session, argument) {
  if (session.state !== State.AUTHORIZATION) return session.send(WRONG_STATE)
  const [mechanism = '', initialResponse, extra] = argument.split(' ').filter(Boolean)
  if (!mechanism) {
    // The pre-RFC 5034 form lists mechanisms; older clients still probe with it.
    return session.sendMultiline('+OK supported mechanisms follow', ['PLAIN'])
  }
  if (mechanism.toUpperCase() !== 'PLAIN' || extra !== undefined) {
    return session.send('-ERR unsupported authentication mechanism')
  }
  // Refused before the "+ " continuation, so a client that waits for it never sends the key;
  // one that sent it inline has already sent it, and the answer is the same.
  if (!session.cleartextOk()) return session.send(CLEARTEXT_REFUSED)
  if (initialResponse === undefined) {
    session.saslMechanism = 'PLAIN'
    return session.send('+ ')
  }
  // RFC 5034 section 4: "=" stands for an empty initial response.
  return finishSaslPlain(session, initialResponse === '=' ? '' : initialResponse)
}

/**
 * RFC 5034 section 4: the client's answer to the "+ " continuation.
 * @param {Session} session
 * @param {string} line
 */
export async function continueSasl(session, line) {
  session.saslMechanism = null
  // RFC 5034 section 4: "*" cancels the exchange.
  if (line.trim() === '*') return session.send('-ERR authentication cancelled')
  return finishSaslPlain(session, line.trim())
}

/**
 * RFC 4616: PLAIN carries the address as authcid and the key as password.
 * @param {Session} session
 * @param {string} encoded
 */
async function finishSaslPlain(session, encoded) {
  const decoded = decodeSaslPlain(encoded)
  if (decoded === 'invalid-base64') {
    return session.send('-ERR [AUTH] invalid base64 in SASL PLAIN response')
  }
  if (decoded === 'malformed') return session.send('-ERR [AUTH] malformed SASL PLAIN response')
  const { authzid, authcid, password } = decoded
  const user = normalizeAddress(authcid)
  // Acting on behalf of another identity is not a thing here: only "none" or "myself".
  if (!user || !password || (authzid && normalizeAddress(authzid) !== user)) {
    return session.refuseLogin()
  }
  return session.login(user, password)
}

/**
 * RFC 1939 section 7 (optional): APOP, not offered, since it needs the key in plaintext here.
 * @param {Session} session
 */
export function handleApop(session) {
  if (session.state !== State.AUTHORIZATION) return session.send(WRONG_STATE)
  return session.send('-ERR APOP not supported, use USER/PASS or AUTH PLAIN')
}

/**
 * RFC 2595 section 4: STLS, AUTHORIZATION state, before any login.
 * @param {Session} session
 */
export async function handleStls(session) {
  if (session.state !== State.AUTHORIZATION) return session.send(WRONG_STATE)
  if (session.secure) return session.send('-ERR already using TLS')
  if (!session.options.secureContext) return session.send('-ERR TLS not available')
  session.user = null
  await session.io.startTls(session.options.secureContext, '+OK begin TLS negotiation')
  session.secure = true
}
