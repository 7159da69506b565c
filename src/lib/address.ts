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
