import type { Database } from '../../db/client'
import { findAccountByApiKey, type Account } from '../../db/queries/accounts'
import { findPrivateAddresses } from '../../db/queries/addresses'
import { findDomains } from '../../db/queries/domains'
import { MAX_WS_SUBSCRIPTIONS } from '../../limits'
import { findInboxOwner, inboxOwner } from '../privacy'
import { domainOf, normalizeAddress, normalizeDomain } from '../../lib/address'

// Sharding of the live feeds over RealtimeHub Durable Objects.
//
// Private feed: one hub per account. Everything a keyed subscriber may listen to belongs to
// one account, so one socket needs exactly one hub, and a message has exactly one owner, so
// publishing touches exactly one hub. Each hub is single-threaded: sharding by account
// means one account's burst of mail queues only behind its own sockets, never another
// account's.
//
// Public feed: one hub per inbox. Public mail goes to arbitrary addresses with no owner to
// group by; a hub per inbox spreads popular inboxes over separate objects, and an inbox no
// one listens to costs nothing: each hub lists its socket count in D1 (live_inboxes), and
// ingest publishes only to listed inboxes, reading the list in the D1 batch it makes anyway.
// The price is one inbox per public socket, which is what an inbox web page shows; open one
// socket per inbox to watch several.

/** What one socket listens to, kept in its hibernation attachment by the RealtimeHub. */
export type Subscription = {
  account: string | null
  addresses: string[]
  domains: string[]
  /** A web page's own socket (cookie session): also gets mail of addresses with enablews off. */
  web?: boolean
}

export const accountShard = (accountId: string) => `account:${accountId}`
export const inboxShard = (inbox: string) => `inbox:${inbox}`

export type SubscriptionRequest = {
  username: string | null
  apiKey: string | null
  addresses: string | null
  /**
   * The account of the web session cookie, for the inbox page's own socket (`?session=1`).
   * It stands in for the key, and needs no `enablews`: that setting is about API clients
   * being pushed mail, while the page is the owner looking at their inbox.
   */
  sessionAccount?: Account | null
}

export type SubscriptionDecision =
  | { ok: true; shard: string; subscription: Subscription }
  | { ok: false; status: 400 | 401 | 403; message: string }

const refuse = (status: 400 | 401 | 403, message: string): SubscriptionDecision => ({
  ok: false,
  status,
  message,
})

/**
 * Checks a `/incoming-messages` request and decides which hub serves it. With a key, every
 * entry of `addresses` must be the account's: an address it reserved with `enablews` on, an
 * address at a domain it owns, or such a domain itself. Without a key, the public feed of
 * exactly one inbox nobody owns. Anything else is refused, never silently left out.
 */
export async function resolveSubscription(
  db: Database,
  request: SubscriptionRequest,
): Promise<SubscriptionDecision> {
  const entries = (request.addresses ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) {
    return refuse(400, 'Name the addresses to listen to: ?addresses=a@example.com,b@example.com')
  }
  if (entries.length > MAX_WS_SUBSCRIPTIONS) {
    return refuse(400, `At most ${MAX_WS_SUBSCRIPTIONS} addresses or domains per socket.`)
  }
  const addresses: string[] = []
  const domainNames: string[] = []
  for (const entry of entries) {
    if (entry.includes('@')) {
      const address = normalizeAddress(entry)
      if (!address) return refuse(400, `Invalid address: ${entry}`)
      addresses.push(address)
    } else {
      const domain = normalizeDomain(entry)
      if (!domain) return refuse(400, `Invalid address or domain: ${entry}`)
      domainNames.push(domain)
    }
  }
  const unique = { addresses: [...new Set(addresses)], domains: [...new Set(domainNames)] }

  const viaSession = !request.apiKey && request.sessionAccount !== undefined
  if (!request.apiKey && !viaSession) {
    if (request.username)
      return refuse(401, 'A key is required with _id: ?_id=<username>&key=<apiKey>')
    return publicSubscription(db, unique)
  }
  const account = viaSession
    ? (request.sessionAccount ?? null)
    : await findAccountByApiKey(db, (request.apiKey as string).trim())
  if (!account) {
    return refuse(401, viaSession ? 'Sign in to follow this inbox.' : 'The API key is not valid.')
  }
  if (request.username && request.username !== account.id) {
    return refuse(401, 'The API key does not belong to this _id.')
  }

  const lookupDomains = [...new Set([...unique.domains, ...unique.addresses.map(domainOf)])]
  const [reserved, owned] = await Promise.all([
    findPrivateAddresses(db, unique.addresses),
    findDomains(db, lookupDomains),
  ])
  const reservation = new Map(reserved.map((row) => [row.email, row]))
  const domainOwner = new Map(owned.map((row) => [row.domain, row.owner]))
  for (const address of unique.addresses) {
    const row = reservation.get(address)
    const owner = inboxOwner({
      reservedBy: row?.owner ?? null,
      domainOwner: domainOwner.get(domainOf(address)) ?? null,
    })
    if (owner !== account.id) {
      return refuse(403, `${address} is not a private address of this account.`)
    }
    if (row) {
      if (!row.enablews && !viaSession) {
        return refuse(
          403,
          `Web socket forwarding is off for ${address}: PUT /api/addresses/${address} with {"enablews": true}.`,
        )
      }
    }
  }
  for (const domain of unique.domains) {
    if (domainOwner.get(domain) !== account.id) {
      return refuse(403, `${domain} is not a domain of this account.`)
    }
  }
  return checkedSize(accountShard(account.id), {
    account: account.id,
    ...unique,
    ...(viaSession ? { web: true } : {}),
  })
}

/** Hibernation attachments are limited to 2 KiB; the subscription is kept in one. */
const MAX_ATTACHMENT_BYTES = 2048

function checkedSize(shard: string, subscription: Subscription): SubscriptionDecision {
  const bytes = new TextEncoder().encode(JSON.stringify(subscription)).byteLength
  if (bytes > MAX_ATTACHMENT_BYTES) {
    return refuse(400, 'The address list is too long for one socket: split it over several.')
  }
  return { ok: true, shard, subscription }
}

async function publicSubscription(
  db: Database,
  unique: { addresses: string[]; domains: string[] },
): Promise<SubscriptionDecision> {
  if (unique.domains.length > 0 || unique.addresses.length !== 1) {
    return refuse(
      400,
      'Without a key, a socket follows the public feed of exactly one inbox (?addresses=name@example.com).',
    )
  }
  const [inbox] = unique.addresses
  if (await findInboxOwner(db, inbox)) {
    return refuse(403, `${inbox} is private: subscribe with its owner's key (?_id=&key=).`)
  }
  return checkedSize(inboxShard(inbox), { account: null, addresses: [inbox], domains: [] })
}
