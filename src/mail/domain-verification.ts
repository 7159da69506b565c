import type { Database } from '../db/client'
import { recordVerification, type Domain } from '../db/queries/domains'
import { DnsLookupError, lookupMx, lookupTxt, resolverFor, type Resolver } from './dns'

/** Cloudflare Email Routing's MX hosts: mail must reach them to reach `email()` of this Worker. */
export const EMAIL_ROUTING_MX = [
  'route1.mx.cloudflare.net',
  'route2.mx.cloudflare.net',
  'route3.mx.cloudflare.net',
]

/** The TXT record an owner publishes to show the domain's DNS is theirs (Mailsac's verificationTxt). */
export const VERIFICATION_PREFIX = 'mailsac-edge-verification='

export function verificationTxt(token: string | null): string {
  return token ? `${VERIFICATION_PREFIX}${token}` : ''
}

export type DomainCheck = { verified: boolean; verifiedMx: boolean; errors: string[] }

/** What a check needs from the deployment: its resolver and the bridge hosts it accepts as MX. */
export type DomainChecker = { resolver: Resolver; bridgeHosts: readonly string[] }

/**
 * ACCEPTED_MX_HOSTS: comma-separated MX hosts that deliver to this Worker besides Email Routing
 * (the operator's bridge). `mx.example.net` is that host; `.example.net` or `*.example.net` any
 * host under example.net. Entries that cannot be host names are dropped: no MX could match them.
 */
export function parseAcceptedMxHosts(setting: string | undefined): string[] {
  return (setting ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/^\*\./, '.').replace(/\.$/, ''))
    .filter((entry) => /^\.?[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(entry))
}

/** The checker of a deployment: DOH_ENDPOINT's resolver and ACCEPTED_MX_HOSTS. */
export function domainCheckerFor(env: {
  DOH_ENDPOINT?: string
  ACCEPTED_MX_HOSTS?: string
}): DomainChecker {
  return { resolver: resolverFor(env), bridgeHosts: parseAcceptedMxHosts(env.ACCEPTED_MX_HOSTS) }
}

function isBridgeHost(host: string, bridgeHosts: readonly string[]) {
  return bridgeHosts.some((entry) =>
    entry.startsWith('.') ? host.endsWith(entry) : host === entry,
  )
}

const ROUTING = `Cloudflare Email Routing (${EMAIL_ROUTING_MX.join(', ')})`

/** The bridge half of the rule in words, so an operator whose MX is a bridge knows the setting. */
function bridgeWords(bridgeHosts: readonly string[]) {
  return bridgeHosts.length
    ? `a bridge host of ACCEPTED_MX_HOSTS (${bridgeHosts.join(', ')})`
    : 'a bridge host listed in ACCEPTED_MX_HOSTS (none listed)'
}

function lookupFailed(domain: string, what: string, error: DnsLookupError) {
  return `Could not look up the ${what} of ${domain} (${error.message}): the check says nothing about it; try again.`
}

/**
 * The MX half: every MX host must be Email Routing's or one of the operator's bridges, or some
 * mail goes elsewhere.
 */
async function checkMx(
  resolver: Resolver,
  domain: string,
  bridgeHosts: readonly string[],
): Promise<string | null> {
  const hosts = (await lookupMx(resolver, domain)).map((mx) => mx.exchange)
  const bridge = bridgeWords(bridgeHosts)
  if (hosts.length === 0) {
    return `${domain} has no MX record: enable Email Routing on its zone so its MX points at ${ROUTING}, or point it at ${bridge}; until then no mail for it will reach this Worker.`
  }
  const elsewhere = hosts.filter(
    (host) => !EMAIL_ROUTING_MX.includes(host) && !isBridgeHost(host, bridgeHosts),
  )
  if (elsewhere.length === hosts.length) {
    return `MX of ${domain} points at ${elsewhere.join(', ')}, not at ${ROUTING} nor at ${bridge}: mail for it will not reach this Worker.`
  }
  if (elsewhere.length > 0) {
    const accepted = hosts.filter((host) => !elsewhere.includes(host))
    return `MX of ${domain} points at ${elsewhere.join(', ')} beside ${accepted.join(', ')}: senders that pick those hosts deliver mail that will not reach this Worker; remove them (or list them in ACCEPTED_MX_HOSTS if they are bridges of this service).`
  }
  return null
}

/** The TXT half: the token of this domain among its TXT records. */
async function checkTxt(resolver: Resolver, domain: string, token: string): Promise<string | null> {
  const expected = verificationTxt(token)
  const records = await lookupTxt(resolver, domain)
  if (records.some((record) => record.trim() === expected)) return null
  const stale = records.find((record) => record.startsWith(VERIFICATION_PREFIX))
  return stale
    ? `The TXT record of ${domain} is ${stale}, not ${expected}: replace it with this domain's token.`
    : `No TXT record ${expected} at ${domain}: add it to show the domain's DNS is yours.`
}

/** Looks up a domain's MX and TXT token; every problem in plain words. */
export async function checkDomain(
  resolver: Resolver,
  domain: string,
  token: string,
  bridgeHosts: readonly string[] = [],
): Promise<DomainCheck> {
  const settle = async (check: Promise<string | null>, what: string) => {
    try {
      const error = await check
      return { ok: error === null, error }
    } catch (error) {
      if (error instanceof DnsLookupError) {
        return { ok: false, error: lookupFailed(domain, what, error) }
      }
      throw error
    }
  }
  const [mx, txt] = await Promise.all([
    settle(checkMx(resolver, domain, bridgeHosts), 'MX'),
    settle(checkTxt(resolver, domain, token), 'TXT records'),
  ])
  return {
    verified: txt.ok,
    verifiedMx: mx.ok,
    errors: [mx.error, txt.error].filter((e): e is string => Boolean(e)),
  }
}

/** Checks a domain and records the result on it; returns the updated domain. */
export async function verifyDomain(
  db: Database,
  { resolver, bridgeHosts }: DomainChecker,
  domain: Domain,
  now = new Date(),
): Promise<{ domain: Domain; check: DomainCheck }> {
  const withToken = domain.verificationToken ? domain : await recordVerification(db, domain, null)
  const token = withToken.verificationToken as string
  const check = await checkDomain(resolver, domain.domain, token, bridgeHosts)
  return { domain: await recordVerification(db, withToken, { ...check, at: now }), check }
}
