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
import ipaddr from 'ipaddr.js'

/**
 * Ports a webhook may use: the https defaults. Other ports are where internal services listen
 * (databases, admin consoles, the bridge's own), so a target on one is refused.
 */
export const WEBHOOK_PORTS = new Set(['', '443', '8443'])

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

/**
 * Whether an IP literal is anything but a public unicast address. ipaddr.js keeps the IANA
 * special-purpose registries (loopback, private, link-local, unique-local, CGNAT, multicast,
 * documentation, benchmarking, reserved...); every range it names is refused, including the
 * IPv6 ranges that embed an IPv4 address (mapped, translated, NAT64, 6to4, Teredo): a host
 * that unwraps them could reach 127.0.0.1, and no webhook needs such a literal.
 */
function nonPublicIp(literal: string): boolean {
  if (!ipaddr.isValid(literal)) return true
  const address = ipaddr.parse(literal)
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291) is "unicast" to ipaddr.js.
  if (
    address.kind() === 'ipv6' &&
    (address as ipaddr.IPv6).parts.slice(0, 5).every((p) => p === 0)
  ) {
    return true
  }
  return address.range() !== 'unicast'
}

/** Whether a URL hostname names something that is not a public internet host. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host.startsWith('[')) return nonPublicIp(host.slice(1, -1))
  // The URL parser has already turned 2130706433, 0x7f.1 and 017700000001 into dotted form.
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return nonPublicIp(host)
  // A single label ("intranet", "metadata") only resolves through a local search domain.
  if (!host.includes('.')) return true
  return INTERNAL_NAMES.has(host) || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))
}

/**
 * Why `value` cannot be a webhook target, or null when it can: https on a public host, port
 * 443 or 8443; with
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
  // `url.port` is '' for the scheme's default port (443).
  if (!WEBHOOK_PORTS.has(url.port)) return 'must use port 443 or 8443'
  if (isInternalHost(url.hostname)) {
    return 'must be on a public host (private, loopback, link-local and internal addresses are refused)'
  }
  return null
}
