// One normalisation for every path (REST, ingest, POP3 via the REST API): trim, strip one
// pair of angle brackets, lower-case. Plus-addressing is NOT folded: `a+tag@x.com` is its own
// inbox, as on Mailsac, so tests can use a fresh inbox per run without reserving anything.
const SPECIALS = '\\s@"<>()\\[\\],;:\\\\'
const LOCAL = `[^${SPECIALS}]{1,64}`
const LABEL = `[^${SPECIALS}.]{1,63}`
const ADDRESS = new RegExp(`^${LOCAL}@(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`, 'u')

/** Returns the canonical form of an email address, or null when it is not one. */
export function normalizeAddress(input: string): string | null {
  let address = input.trim()
  if (address.startsWith('<') && address.endsWith('>')) address = address.slice(1, -1).trim()
  address = address.toLowerCase()
  if (!ADDRESS.test(address) || address.includes('..')) return null
  return address
}

/** The domain part of a normalised address. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1)
}

// The one rule for a bare domain name (deny-list entries, websocket subscriptions, operator
// domain claims): LDH labels of 1-63 characters that neither start nor end with a hyphen, at
// least two of them, 253 characters in all (RFC 1035 2.3.1, RFC 1123 2.1). Internationalised
// names are accepted in their A-label form (`xn--...`), which is what DNS and Email Routing use.
const LDH_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LDH_LABEL}(?:\\.${LDH_LABEL})+$`)

/** The canonical form of a domain name (lower case, no trailing dot), or null. */
export function normalizeDomain(input: string): string | null {
  const domain = input.trim().toLowerCase().replace(/\.$/, '')
  return DOMAIN.test(domain) ? domain : null
}
