import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { database } from '../../../src/db/client'
import {
  commonAttachments,
  topAddresses,
  topDomains,
  topSenders,
} from '../../../src/db/queries/mailstats'

const db = database(env.DB)
const RANGE = { startDate: new Date('2026-03-01'), endDate: new Date('2026-03-02') }
const PAGE = { limit: 20, skip: 0 }

type Query = { toSQL(): { sql: string; params: unknown[] } }

/** SQLite's plan, one step a line, for a stats query (they return drizzle's query, unrun). */
async function planOf(query: PromiseLike<unknown>): Promise<string> {
  const { sql, params } = (query as unknown as Query).toSQL()
  const plan = await env.DB.prepare(`explain query plan ${sql}`)
    .bind(...params)
    .all<{ detail: string }>()
  return plan.results.map((step) => step.detail).join('\n')
}

// Not timings (benchmarks are bench/stats.mjs's job) but the shape that makes them fast: each
// count reads one public-only index and nothing else, so no message row is read and private
// mail is never even looked at. A change to isPublicMessage() or to an index that no longer
// matches the other shows up here, not as a slow endpoint in production.
describe('mail stats query plans', () => {
  it.each([
    ['topAddresses', topAddresses, 'messages_public_inbox_idx'],
    ['topDomains', topDomains, 'messages_public_domain_idx'],
    ['topSenders', topSenders, 'messages_public_sender_idx'],
  ])('%s walks %s in key order, counting without a sort', async (_, tally, index) => {
    const plan = await planOf(tally(db, RANGE, PAGE))
    expect(plan).toContain(`SCAN messages USING COVERING INDEX ${index}`)
    expect(plan).not.toContain('FOR GROUP BY')
  })

  it('commonAttachments reads the range of messages_public_attachments_idx only', async () => {
    const plan = await planOf(commonAttachments(db, RANGE, PAGE))
    expect(plan).toMatch(
      /SEARCH messages USING COVERING INDEX messages_public_attachments_idx \(received>\? AND received<\?\)/,
    )
    expect(plan).not.toContain('message_attachments')
  })
})
