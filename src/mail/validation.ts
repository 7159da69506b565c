import blocklist from 'disposable-email-domains-js/dist/dict/disposable_email_blocklist.json'
import type { Database } from '../db/client'
import { ownedDomainNames } from '../db/queries/domains'
import { MAX_OUTGOING_CONNECTIONS } from '../limits'
import { normalizeAddress } from '../lib/address'
import { mapConcurrently } from '../lib/concurrency'
import { acceptedDomains } from './accepted-domains'
import { DnsLookupError, lookupMx, type Resolver } from './dns'

/** Mailsac's `EmailAddressIntegrity`: what the validation API answers for one address. */
export type AddressIntegrity = {
  email: string
  validFormat: boolean
  local: string
  domain: string
  isDisposable: boolean
  disposableDomains: string[]
  aliases: string[]
}

/**
 * The maintained list (disposable-email-domains-js, CC0, from the disposable-email-domains
 * project), as a Set built on first use: about 9,000 names, so isolates that never validate
 * an address never pay for it.
 */
let listed: Set<string> | undefined
function onDisposableList(domain: string): boolean {
  listed ??= new Set(blocklist as string[])
  // A subdomain of a listed domain (mx.mailinator.com) is the same provider.
  const labels = domain.split('.')
  for (let i = 0; i < labels.length - 1; i++) {
    if (listed.has(labels.slice(i).join('.'))) return true
  }
  return false
}

export type ValidationContext = {
  db: Database
  /** The ACCEPTED_DOMAINS setting. */
  acceptedSetting: string | undefined
  resolver: Resolver
}

type Parsed = { email: string; address: string | null; local: string; domain: string }

function parse(input: string): Parsed {
  const address = normalizeAddress(input)
  const text = address ?? input.trim()
  const at = text.lastIndexOf('@')
  return {
    email: address ?? input,
    address,
    local: at < 0 ? text : text.slice(0, at),
    domain: at < 0 ? '' : text.slice(at + 1).toLowerCase(),
  }
}

/**
 * Validates addresses as Mailsac's validation API does. A domain is disposable when this
 * service receives mail for it (the domains ACCEPTED_DOMAINS names and the accounts' own
 * domains: an empty ACCEPTED_DOMAINS means "catch-all", which would make every domain ours, so
 * only named ones count) or when it is on the maintained list; the MX hosts (`aliases`) are
 * checked the same way, which finds custom domains that receive at a disposable provider. A
 * failed MX lookup leaves `aliases` empty: the answer is still given, from the domain alone.
 */
export async function validateAddresses(
  inputs: string[],
  { db, acceptedSetting, resolver }: ValidationContext,
): Promise<AddressIntegrity[]> {
  const parsed = inputs.map(parse)
  const domains = [...new Set(parsed.filter((p) => p.address).map((p) => p.domain))]
  const mxHosts = await mapConcurrently(domains, MAX_OUTGOING_CONNECTIONS, async (domain) => {
    try {
      return (await lookupMx(resolver, domain)).map((mx) => mx.exchange)
    } catch (error) {
      if (error instanceof DnsLookupError) return []
      throw error
    }
  })
  const aliasesOf = new Map(domains.map((domain, i) => [domain, [...new Set(mxHosts[i])]]))
  const ours = await ownedDomainNames(db, [...domains, ...mxHosts.flat()])
  for (const domain of acceptedDomains(acceptedSetting)) ours.add(domain)
  const disposable = (name: string) => ours.has(name) || onDisposableList(name)

  return parsed.map(({ email, address, local, domain }) => {
    const aliases = address ? (aliasesOf.get(domain) ?? []) : []
    const disposableDomains = address ? [domain, ...aliases].filter(disposable) : []
    return {
      email,
      validFormat: address !== null,
      local,
      domain,
      isDisposable: disposableDomains.length > 0,
      disposableDomains,
      aliases,
    }
  })
}
