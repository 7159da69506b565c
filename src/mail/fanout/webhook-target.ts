// Where webhooks may point. A webhook makes this service send a request to a URL a user
// chose, so without these checks it could be aimed at hosts only the platform can reach
// (cloud metadata endpoints, loopback admin ports, the private network): server-side request
// forgery. The URL is checked when the setting is saved (a clear 400) and again before every
// attempt, since the rules or the stored value may have changed since.
//
// Hostnames are checked by name, not by what they resolve to: Workers have no DNS lookup, and
// Cloudflare does not route a Worker's subrequests into private address space, so a public
// name that resolves to 10.0.0.1 reaches nothing. Literal IPs and internal-only names are
// refused here so that the same code stays safe on runtimes that would route them.

/** Hosts allowed over plain http, and only in local development (ALLOW_LOCAL_WEBHOOKS). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Names that only mean something inside a network, or that cloud metadata services answer. */
const INTERNAL_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'kubernetes.default',
  'kubernetes.default.svc',
])

/** Suffixes of names that never resolve on the public internet (RFC 6761, 6762, 8375...). */
const INTERNAL_SUFFIXES = [
  '.localhost',
  '.local',
  '.internal',
  '.intranet',
  '.lan',
  '.home',
  '.home.arpa',
  '.corp',
  '.private',
  '.localdomain',
  '.arpa',
]

/** IPv4 ranges that are not public unicast (RFC 6890 special-purpose registry). */
const PRIVATE_V4: Array<[number, number, number, number, number]> = [
  [0, 0, 0, 0, 8], // "this network"
  [10, 0, 0, 0, 8], // private
  [100, 64, 0, 0, 10], // carrier-grade NAT
  [127, 0, 0, 0, 8], // loopback
  [169, 254, 0, 0, 16], // link-local, cloud metadata (169.254.169.254)
  [172, 16, 0, 0, 12], // private
  [192, 0, 0, 0, 24], // IETF protocol assignments
  [192, 0, 2, 0, 24], // documentation
  [192, 88, 99, 0, 24], // 6to4 relay
  [192, 168, 0, 0, 16], // private
  [198, 18, 0, 0, 15], // benchmarking
  [198, 51, 100, 0, 24], // documentation
  [203, 0, 113, 0, 24], // documentation
  [224, 0, 0, 0, 4], // multicast
  [240, 0, 0, 0, 4], // reserved, broadcast
]

function ipv4Value(host: string): number | null {
  // The URL parser has already turned 2130706433, 0x7f.1 and 017700000001 into dotted form.
  const parts = host.split('.')
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null
  const bytes = parts.map(Number)
  if (bytes.some((byte) => byte > 255)) return null
  return ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3]
}

function privateIpv4(value: number): boolean {
  return PRIVATE_V4.some(([a, b, c, d, bits]) => {
    const base = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    return (value & mask) >>> 0 === base
  })
}

/** Expands a bracketed, URL-normalised IPv6 literal into eight 16-bit groups. */
function ipv6Groups(literal: string): number[] | null {
  let text = literal.slice(1, -1).toLowerCase()
  // An embedded IPv4 tail (::ffff:1.2.3.4); the URL parser usually rewrites it to hex.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const value = ipv4Value(v4[1])
    if (value === null) return null
    text =
      text.slice(0, -v4[1].length) +
      `${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`
  }
  const [head, tail, extra] = text.split('::')
  if (extra !== undefined) return null
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 1) return null
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right]
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null
  return groups.map((group) => parseInt(group, 16))
}

function privateIpv6(groups: number[]): boolean {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups
  const zeroHead = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0
  if (zeroHead && g5 === 0 && g6 === 0 && (g7 === 0 || g7 === 1)) return true // :: and ::1
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): judge the IPv4 address.
  if (zeroHead && (g5 === 0xffff || g5 === 0)) return privateIpv4(((g6 << 16) >>> 0) + g7)
  if (g0 === 0x64 && g1 === 0xff9b) return privateIpv4(((g6 << 16) >>> 0) + g7) // NAT64
  if ((g0 & 0xfe00) === 0xfc00) return true // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return true // link-local fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return true // site-local (deprecated) fec0::/10
  if ((g0 & 0xff00) === 0xff00) return true // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return true // documentation
  if (g0 === 0x2002) return privateIpv4(((g1 << 16) >>> 0) + g2) // 6to4 wraps an IPv4
  return false
}

/** Whether a URL hostname names something that is not a public internet host. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host.startsWith('[')) {
    const groups = ipv6Groups(host)
    return groups === null || privateIpv6(groups)
  }
  const v4 = ipv4Value(host)
  if (v4 !== null) return privateIpv4(v4)
  // A single label ("intranet", "metadata") only resolves through a local search domain.
  if (!host.includes('.')) return true
  return INTERNAL_NAMES.has(host) || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))
}

/**
 * Why `value` cannot be a webhook target, or null when it can: https on a public host; with
 * `allowLocal` (ALLOW_LOCAL_WEBHOOKS = "true", local development only) also http or https
 * on 127.0.0.1, localhost or [::1].
 */
export function webhookTargetProblem(value: string, allowLocal: boolean): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'not a URL'
  }
  if (url.username || url.password) return 'must not carry credentials'
  if (allowLocal && LOOPBACK_HOSTS.has(url.hostname)) {
    return url.protocol === 'http:' || url.protocol === 'https:' ? null : 'must be http(s)'
  }
  if (url.protocol !== 'https:') {
    return allowLocal
      ? 'must be an https:// URL (or http://127.0.0.1 / localhost)'
      : 'must be an https:// URL on a public host'
  }
  if (isInternalHost(url.hostname)) {
    return 'must be on a public host (private, loopback, link-local and internal addresses are refused)'
  }
  return null
}
