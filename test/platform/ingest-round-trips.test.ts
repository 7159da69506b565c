import { describe, expect, it } from 'vitest'
import { ingestBatch, ingestMessage } from '../../src/mail/inbound/ingest'
import { json } from '../requests'
import { Invocation } from './limits'

// D1 queries per ingest call (#18): each is a round trip before the SMTP 250 or email()'s
// return, tens of milliseconds from a far location on Cloudflare. The deny-list and the
// ownership lookups run together; the write and what announcing the mail needs share one batch.

const encoder = new TextEncoder()
const message = (subject: string, to: string) =>
  encoder.encode(`From: a@example.org\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nhi\r\n`)

describe('ingest round trips', () => {
  it('#18 stores a public message in 3 D1 queries (the announcement read rides the write)', async () => {
    const invocation = new Invocation('free')
    const [stored] = await ingestMessage(invocation.env(), message('rt', 'rt@trips.test'), {
      from: 'a@example.org',
      to: ['rt@trips.test'],
    })
    invocation.assertWithinLimits()
    // deny-list, ownership, then one batch: key, headers, row and the fanout reads.
    expect(invocation.d1Queries).toBe(3)
    const found = await json<{ _id: string; headers: Record<string, string> }>(
      `/api/addresses/rt@trips.test/messages/${stored._id}`,
    )
    expect(found.headers.subject).toBe('rt')
  })

  it('#18 stores a bridge batch of 50 public messages in 3 D1 queries', async () => {
    const invocation = new Invocation('free')
    const results = await ingestBatch(
      invocation.env(),
      Array.from({ length: 50 }, (_, i) => ({
        raw: message(`b${i}`, `b${i}@trips.test`),
        envelope: { from: 'a@example.org', to: [`b${i}@trips.test`], key: `trips-${i}` },
      })),
    )
    invocation.assertWithinLimits()
    expect(results.every((result) => 'messages' in result)).toBe(true)
    expect(invocation.d1Queries).toBe(3)
    // Multi-row INSERTs: 50 headers in 2 statements, 50 keys in 2, 50 rows in 25, then the
    // fanout reads; one statement per row made 150 before the reads.
    expect(invocation.largestBatch).toBeLessThan(40)
  })

  it('#18 an Email Routing arrival (a possible retry) adds only its key lookup, in parallel', async () => {
    const invocation = new Invocation('free')
    await ingestMessage(invocation.env(), message('er', 'er@trips.test'), {
      from: 'a@example.org',
      to: ['er@trips.test'],
      key: 'e'.repeat(64),
      maybeStored: true,
    })
    invocation.assertWithinLimits()
    expect(invocation.d1Queries).toBe(4)
  })
})
