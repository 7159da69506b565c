import { domainOf } from '../lib/address'

/**
 * The domains this service receives mail for, from the `ACCEPTED_DOMAINS` setting (comma
 * separated). Empty means every domain: the service is a catch-all, as in local development.
 */
export function acceptedDomains(setting: string | undefined): string[] {
  return (setting ?? '')
    .split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean)
}

/**
 * Whether this service receives mail for `address`: the one rule for inbound mail, local
 * delivery of sends, and which addresses can be reserved.
 */
export function receivesFor(address: string, setting: string | undefined): boolean {
  const accepted = acceptedDomains(setting)
  return accepted.length === 0 || accepted.includes(domainOf(address))
}
