import { UNSETTLED_KEYS_MAX, UNSETTLED_KEY_TTL_MS } from '../limits.js'

/**
 * Idempotency keys of arrivals the bridge answered with a temporary failure: the Worker may
 * still have stored them (the bridge gave up waiting, or its reply was lost). The sender's
 * retry of such an arrival is sent with `maybeStored`, and the Worker answers it with the ids
 * stored the first time instead of storing it again. An arrival answered 250 is settled: the
 * same bytes sent again later are a new message (a test tool resending one file), as on
 * Mailsac. Kept in memory and bounded: after a restart of the bridge a retry may be stored
 * twice, never lost.
 */
export class UnsettledArrivals {
  constructor(maxKeys = UNSETTLED_KEYS_MAX, ttlMs = UNSETTLED_KEY_TTL_MS) {
    /** @type {Map<string, number>} key -> when it stops mattering */
    this.keys = new Map()
    this.maxKeys = maxKeys
    this.ttlMs = ttlMs
  }

  /** @param {string} key */
  has(key) {
    const until = this.keys.get(key)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.keys.delete(key)
    return false
  }

  /** @param {string} key */
  add(key) {
    this.keys.delete(key)
    // Oldest first: Map keeps insertion order.
    while (this.keys.size >= this.maxKeys) {
      const oldest = this.keys.keys().next().value
      if (oldest === undefined) break
      this.keys.delete(oldest)
    }
    this.keys.set(key, Date.now() + this.ttlMs)
  }

  /** @param {string} key */
  settle(key) {
    this.keys.delete(key)
  }
}
