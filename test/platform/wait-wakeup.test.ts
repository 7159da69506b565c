import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../src/app'
import { ingest } from '../requests'
import { Invocation } from './limits'

// #17.1 "must not poll D1 in a loop: wake on the ingest's publish, with one query on arrival".
// The wait runs with the harness's counting bindings, the ingest with the plain ones, so the
// counter holds the wait's own D1 queries only.

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitersHeld(shard: string, count: number) {
  const hub = env.REALTIME.get(env.REALTIME.idFromName(shard))
  while ((await hub.waiting()) < count) await settle(5)
}

describe('wait wake-up (#17.1)', () => {
  it('#17.1 a held wait makes no D1 query until the hub publishes, then at most one', async () => {
    const inbox = `wake-${crypto.randomUUID().slice(0, 8)}@example.com`
    const invocation = new Invocation('free')
    const ctx = createExecutionContext()
    const waiting = app.fetch(
      new Request(`http://mail.test/api/addresses/${inbox}/wait?since=${Date.now()}&timeout=30`),
      // D1 counted; the hub as is (the harness's Durable Object wrapper is for fetch stubs).
      { ...invocation.env(), REALTIME: env.REALTIME },
      ctx,
    )
    await waitersHeld(`inbox:${inbox}`, 1)
    // Past the access check and the first read, the request is parked on the hub.
    await settle(1000)
    const held = invocation.d1Queries
    expect(held).toBeGreaterThan(0)
    // A poll loop would show here: seconds pass, no query is made.
    await settle(2500)
    expect(invocation.d1Queries).toBe(held)

    const [stored] = await ingest(
      `From: a@example.org\r\nTo: ${inbox}\r\nSubject: Your code\r\n\r\nYour code is 482913.\r\n`,
      [inbox],
    )
    const response = await waiting
    expect(response.status).toBe(200)
    const messages = await response.json<Array<{ _id: string; codes: string[] }>>()
    expect(messages.map((message) => message._id)).toEqual([stored._id])
    expect(messages[0].codes).toEqual(['482913'])
    // The published row answers the wait: one query at most (none when the row carries all).
    expect(invocation.d1Queries - held).toBeLessThanOrEqual(1)
    await waitOnExecutionContext(ctx)
    invocation.assertWithinLimits()
  }, 30_000)
})
