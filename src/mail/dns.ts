import { DNS_CACHE_ENTRIES, DNS_CACHE_MAX_SECONDS, DNS_TIMEOUT_MS } from '../limits'

/** The record types the validation API and the domain checks ask for. */
export type RecordType = 'MX' | 'TXT'

/** One MX answer: lower preference is tried first by senders. */
export type MxRecord = { preference: number; exchange: string }

/** A lookup that could not answer (timeout, HTTP or DNS failure): "unknown", never "none". */
export class DnsLookupError extends Error {
  constructor(
    readonly host: string,
    readonly type: RecordType,
    reason: string,
  ) {
    super(`DNS ${type} lookup of ${host} failed: ${reason}`)
    this.name = 'DnsLookupError'
  }
}

/** What the validation API and domain verification need from DNS; tests pass a stub. */
export interface Resolver {
  /** Record data as DNS-over-HTTPS JSON gives it (`10 mx.example.` / `"text"`); [] for none. */
  resolve(name: string, type: RecordType): Promise<string[]>
}

export const DEFAULT_DOH_ENDPOINT = 'https://cloudflare-dns.com/dns-query'

/** RFC 8484's JSON flavour (Cloudflare and Google): the parts read here. */
type DohAnswer = {
  Status: number
  Answer?: { type: number; data: string; TTL: number }[]
}

const TYPE_CODES: Record<RecordType, number> = { MX: 15, TXT: 16 }
/** RCODEs: 0 NOERROR, 3 NXDOMAIN (a name that does not exist has no records: an answer). */
const NXDOMAIN = 3

type CacheEntry = { records: string[]; expires: number }

/**
 * Answers kept in this isolate, oldest first (a Map keeps insertion order). Not the Workers
 * Cache API: it does nothing on *.workers.dev hosts, where many deployments live, and each
 * put/match costs a subrequest; an isolate's Map is free, and a miss is one small fetch.
 */
const cache = new Map<string, CacheEntry>()

/** Forgets every cached answer (tests, which stub DNS differently per case). */
export function clearDnsCache() {
  cache.clear()
}

function remember(key: string, records: string[], ttlSeconds: number, now: number) {
  cache.delete(key)
  if (cache.size >= DNS_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string)
  const seconds = Math.max(0, Math.min(ttlSeconds, DNS_CACHE_MAX_SECONDS))
  cache.set(key, { records, expires: now + seconds * 1000 })
}

export type DohOptions = {
  endpoint?: string
  fetch?: typeof fetch
  timeoutMs?: number
  now?: () => number
}

/**
 * A resolver over DNS-over-HTTPS (JSON API, `accept: application/dns-json`), with a
 * timeout per lookup and the in-isolate cache above (TTL from the answer, bounded).
 */
export function dohResolver({
  endpoint = DEFAULT_DOH_ENDPOINT,
  fetch: fetchFn = (input, init) => fetch(input, init),
  timeoutMs = DNS_TIMEOUT_MS,
  now = Date.now,
}: DohOptions = {}): Resolver {
  return {
    async resolve(name, type) {
      const host = name.trim().toLowerCase().replace(/\.$/, '')
      const key = `${endpoint} ${type} ${host}`
      const cached = cache.get(key)
      if (cached && cached.expires > now()) return cached.records
      const url = new URL(endpoint)
      url.searchParams.set('name', host)
      url.searchParams.set('type', type)
      let body: DohAnswer
      try {
        const response = await fetchFn(url, {
          headers: { accept: 'application/dns-json' },
          signal: AbortSignal.timeout(timeoutMs),
        })
        if (!response.ok) throw new Error(`the resolver answered HTTP ${response.status}`)
        body = (await response.json()) as DohAnswer
      } catch (error) {
        const reason =
          error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
            ? `no answer within ${timeoutMs} ms`
            : error instanceof Error
              ? error.message
              : String(error)
        throw new DnsLookupError(host, type, reason)
      }
      if (body.Status !== 0 && body.Status !== NXDOMAIN) {
        throw new DnsLookupError(host, type, `the resolver answered RCODE ${body.Status}`)
      }
      // CNAMEs in the chain come back as answers too: keep only the type asked for.
      const answers = (body.Answer ?? []).filter((a) => a.type === TYPE_CODES[type])
      const records = answers.map((a) => a.data)
      const ttl = answers.length ? Math.min(...answers.map((a) => a.TTL)) : 60
      remember(key, records, ttl, now())
      return records
    },
  }
}

/** MX records in preference order, hosts lower-cased without the trailing dot. */
export async function lookupMx(resolver: Resolver, domain: string): Promise<MxRecord[]> {
  const records = await resolver.resolve(domain, 'MX')
  return records
    .map((data) => {
      const [preference, exchange = ''] = data.trim().split(/\s+/)
      return { preference: Number(preference), exchange: exchange.toLowerCase().replace(/\.$/, '') }
    })
    .filter((mx) => mx.exchange && Number.isFinite(mx.preference))
    .sort((a, b) => a.preference - b.preference)
}

/** TXT records as text: DoH JSON quotes each string of a record (`"a" "b"`), joined here. */
export async function lookupTxt(resolver: Resolver, domain: string): Promise<string[]> {
  const records = await resolver.resolve(domain, 'TXT')
  return records.map((data) => {
    const parts = [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
      m[1].replace(/\\(.)/g, '$1'),
    )
    return parts.length ? parts.join('') : data
  })
}

/** The resolver of a deployment: DOH_ENDPOINT, or Cloudflare's. */
export function resolverFor(env: { DOH_ENDPOINT?: string }): Resolver {
  return dohResolver({ endpoint: env.DOH_ENDPOINT || DEFAULT_DOH_ENDPOINT })
}
