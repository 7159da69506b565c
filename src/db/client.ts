import { drizzle } from 'drizzle-orm/d1'
import * as schema from './schema'

// Building a client walks the whole schema (drizzle's relational config): about half a
// millisecond of CPU, which ingest paid several times per message. One client per binding.
const clients = new WeakMap<D1Database, ReturnType<typeof build>>()

const build = (d1: D1Database) => drizzle(d1, { schema })

/** A drizzle client over the D1 binding (one per binding, reused). */
export function database(d1: D1Database) {
  let client = clients.get(d1)
  if (!client) {
    client = build(d1)
    clients.set(d1, client)
  }
  return client
}

export type Database = ReturnType<typeof database>
