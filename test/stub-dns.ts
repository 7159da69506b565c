import { vi } from 'vitest'
import { clearDnsCache } from '../src/mail/dns'

/** Records per name; `'timeout'` makes every lookup of the name time out. */
export type StubZone = Record<string, { MX?: string[]; TXT?: string[] } | 'timeout'>

const TYPES = { MX: 15, TXT: 16 } as const

/**
 * Answers the Worker's DNS-over-HTTPS requests (DOH_ENDPOINT, a closed local port in tests)
 * from `zone`, as the JSON API does; a name not in it is NXDOMAIN. Other fetches are refused.
 * Returns the names asked for, in order.
 */
export function stubDns(zone: StubZone): string[] {
  clearDnsCache()
  const asked: string[] = []
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.pathname !== '/dns-query') throw new Error(`unexpected fetch of ${url} in a test`)
    const name = url.searchParams.get('name') ?? ''
    const type = url.searchParams.get('type') as keyof typeof TYPES
    asked.push(`${type} ${name}`)
    const entry = zone[name]
    if (entry === 'timeout') throw new DOMException('The operation timed out.', 'TimeoutError')
    if (!entry) return Response.json({ Status: 3 })
    const data = entry[type] ?? []
    return Response.json({
      Status: 0,
      Answer: data.map((value) => ({ name, type: TYPES[type], TTL: 300, data: value })),
    })
  })
  return asked
}
