import type { Database } from '../client'
import { outboundMessages } from '../schema'

export type NewOutboundMessage = typeof outboundMessages.$inferInsert

/** Records one POST /api/outgoing-messages (or SMTP submission) and what became of it. */
export async function recordOutboundMessage(db: Database, message: NewOutboundMessage) {
  await db.insert(outboundMessages).values(message)
}
