// Exactly once: an arrival is stored at most once however often its sender retries. The
// bridge answers 451 when the Worker is slower than its timeout, and any reply can be lost on
// the way back, while the Worker may still have stored the mail; Email Routing retries a
// temporary failure the same way. Such arrivals carry a key that survives the retry (the
// bridge's, computed over the bytes as its client sent them; for email(), `emailRoutingKey`),
// and the key is written in the D1 batch that writes the message rows, so a retry finds it and
// is answered with the ids stored the first time. An arrival without a key (an operator's or a
// test's direct /internal/ingest) is stored each time it comes, as Mailsac would.
import type { Database } from '../../db/client'
import { findArrivalKeys } from '../../db/queries/arrival-keys'
import { sha256Hex } from '../../lib/bytes'
import { ARRIVAL_KEY_TTL_MS } from '../../limits'
import type { Envelope, StoredMessage } from './arrival'

/** An idempotency key as the bridge sends it: hex SHA-256. */
export const ARRIVAL_KEY = /^[0-9a-f]{64}$/

/**
 * The key of a message from Email Routing, which retries the same envelope and bytes after a
 * temporary failure. The bytes are hashed on their own first, so 25 MiB are never copied.
 */
export async function emailRoutingKey(envelope: Envelope, raw: Uint8Array): Promise<string> {
  return sha256Hex(`${envelope.from}\0${envelope.to.join('\n')}\0${await sha256Hex(raw)}`)
}

/** The keys among `keys` stored within ARRIVAL_KEY_TTL_MS, with the messages stored for them. */
export async function storedArrivals(
  db: Database,
  keys: string[],
  now: Date,
): Promise<Map<string, StoredMessage[]>> {
  if (keys.length === 0) return new Map()
  return findArrivalKeys(db, keys, new Date(now.getTime() - ARRIVAL_KEY_TTL_MS))
}
