import type { Database } from '../../db/client'
import { findListedEntries } from '../../db/queries/denylist'
import { domainOf, normalizeAddress, normalizeDomain } from '../../lib/address'
import type { Envelope } from './arrival'

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const IPV6 = /^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$/

/**
 * The canonical form of a deny-list entry (a domain or an IP address), or null when the input
 * is neither. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a Node dual-stack socket reports, so
 * what the bridge passes) is reduced to the IPv4 address so one entry covers both spellings.
 */
export function normalizeDenylistEntry(input: string): string | null {
  let entry = input.trim().toLowerCase()
  if (entry.startsWith('[') && entry.endsWith(']')) entry = entry.slice(1, -1)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(entry)
  if (mapped) entry = mapped[1]
  if (IPV4.test(entry) || IPV6.test(entry)) return entry
  return normalizeDomain(entry)
}

/**
 * What an envelope is checked against: the client IP, and the envelope sender's domain with
 * its parent domains (listing `example.com` also refuses `mail.example.com`, since abusers
 * rotate subdomains freely).
 */
export function denylistCandidates(envelope: Envelope): string[] {
  const candidates: string[] = []
  const ip = envelope.ip ? normalizeDenylistEntry(envelope.ip) : null
  if (ip) candidates.push(ip)
  const sender = normalizeAddress(envelope.from)
  if (sender) {
    const labels = domainOf(sender).split('.')
    for (let i = 0; i < labels.length; i++) candidates.push(labels.slice(i).join('.'))
  }
  return candidates
}

/**
 * For each envelope, why its mail is refused (a listed sender domain or client IP), or null.
 * One D1 query for all of them, so a batch costs what one message does.
 */
export async function denylistRefusals(
  db: Database,
  envelopes: Envelope[],
): Promise<(string | null)[]> {
  const candidates = envelopes.map(denylistCandidates)
  const all = [...new Set(candidates.flat())]
  if (all.length === 0) return envelopes.map(() => null)
  const listed = new Map(
    (await findListedEntries(db, all)).map((row) => [row.entry, row.reason] as const),
  )
  return candidates.map((keys) => {
    const hit = keys.find((key) => listed.has(key))
    if (hit === undefined) return null
    const reason = listed.get(hit)
    return `Mail from ${hit} is refused${reason ? `: ${reason}` : ' (deny-listed)'}.`
  })
}
