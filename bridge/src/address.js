// A faithful copy of the Worker's normalizeAddress (src/mail/address.ts): POP3's USER and SASL
// names go through it, so the inbox lock and the REST API agree on which inbox an address
// names (`<A@x>` and `a@x` are one inbox, hence one session). It must agree with the Worker's;
// a Worker-side test imports this module to check, so it imports nothing from node:.
//
// One normalisation for every path (REST, ingest, POP3 via the REST API): trim, strip one
// pair of angle brackets, lower-case. Plus-addressing is NOT folded: `a+tag@x.com` is its own
// inbox, as on Mailsac.
const SPECIALS = '\\s@"<>()\\[\\],;:\\\\'
const LOCAL = `[^${SPECIALS}]{1,64}`
const LABEL = `[^${SPECIALS}.]{1,63}`
const ADDRESS = new RegExp(`^${LOCAL}@(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`, 'u')

/**
 * Returns the canonical form of an email address, or null when it is not one.
 * @param {string} input
 * @returns {string | null}
 */
export function normalizeAddress(input) {
  let address = input.trim()
  if (address.startsWith('<') && address.endsWith('>')) address = address.slice(1, -1).trim()
  address = address.toLowerCase()
  if (!ADDRESS.test(address) || address.includes('..')) return null
  return address
}
