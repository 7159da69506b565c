import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { database } from '../../../src/db/client'
import { findDelivery } from '../../../src/db/queries/deliveries'
import { requeueStranded, type DeliveryJob } from '../../../src/mail/fanout/queueing'
import { emailRoutingKey } from '../../../src/mail/inbound/idempotency'
import { ingestBatch, ingestMessage } from '../../../src/mail/inbound/ingest'
import { receiveEmail } from '../../../src/mail/inbound/receive'
import { DELIVERY_REQUEUE_AFTER_MS } from '../../../src/limits'
import { json, createAccount, reserve, simpleMessage } from '../../requests'

const encode = (text: string) => new TextEncoder().encode(text)

/** A key as the bridge makes one: any hex SHA-256 unique to this arrival. */
async function arrivalKey(raw: Uint8Array, from: string, to: string[]) {
  return emailRoutingKey({ from, to }, raw)
}

async function rowCount(inbox: string): Promise<number> {
  const row = await env.DB.prepare('select count(*) as n from messages where inbox = ?')
    .bind(inbox)
    .first<{ n: number }>()
  return row?.n ?? 0
}

/** A minimal ForwardableEmailMessage as Email Routing hands it to `email()`. */
function routedEmail(raw: Uint8Array, from: string, to: string) {
  return {
    from,
    to,
    raw: new Response(raw).body as ReadableStream,
    rawSize: raw.byteLength,
    headers: new Headers(),
    setReject: () => undefined,
    forward: async () => ({ messageId: '' }),
    reply: async () => ({ messageId: '' }),
  } as unknown as ForwardableEmailMessage
}

/** A queue binding whose first `failures` sendBatch calls throw; records what it accepted. */
function flakyQueue(failures: number) {
  const sent: DeliveryJob[] = []
  let calls = 0
  const queue = {
    send: async (body: DeliveryJob) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<DeliveryJob>>) => {
      calls++
      if (calls <= failures) throw new Error('Queue send failed (injected)')
      for (const message of messages) sent.push(message.body)
    },
  }
  return { sent, queue: queue as unknown as Queue }
}

describe('exactly-once ingest (#15 item 1)', () => {
  it('answers a maybeStored retry with the ids stored the first time and stores nothing', async () => {
    const to = 'retried@idem.test'
    const raw = encode(simpleMessage({ to, subject: 'first attempt' }))
    const key = await arrivalKey(raw, 'sender@example.org', [to])
    const first = await ingestMessage(env, raw, { from: 'sender@example.org', to: [to], key })
    const retry = await ingestMessage(env, raw, {
      from: 'sender@example.org',
      to: [to],
      key,
      maybeStored: true,
    })
    expect(retry).toEqual(first)
    expect(await rowCount(to)).toBe(1)
  })

  it('stores a settled arrival sent again (no maybeStored) as a second message', async () => {
    const to = 'resent@idem.test'
    const raw = encode(simpleMessage({ to, subject: 'sent twice on purpose' }))
    const key = await arrivalKey(raw, 'sender@example.org', [to])
    const first = await ingestMessage(env, raw, { from: 'sender@example.org', to: [to], key })
    const second = await ingestMessage(env, raw, { from: 'sender@example.org', to: [to], key })
    expect(second[0]._id).not.toBe(first[0]._id)
    expect(await rowCount(to)).toBe(2)
    // The key now names the latest copy: a retry of that one is answered with its ids.
    const retry = await ingestMessage(env, raw, {
      from: 'sender@example.org',
      to: [to],
      key,
      maybeStored: true,
    })
    expect(retry).toEqual(second)
    expect(await rowCount(to)).toBe(2)
  })

  it('stores one copy when two maybeStored attempts of one arrival race', async () => {
    const to = 'racing@idem.test'
    const raw = encode(simpleMessage({ to, subject: 'raced' }))
    const key = await arrivalKey(raw, 'sender@example.org', [to])
    const envelope = { from: 'sender@example.org', to: [to], key, maybeStored: true }
    // Both look the key up before either commits, so only the strict key insert can stop the
    // second copy; the loser then finds the winner's ids.
    const [a, b] = await Promise.all([
      ingestBatch(env, [{ raw, envelope }]),
      ingestBatch(env, [{ raw, envelope }]),
    ])
    expect(a[0]).toHaveProperty('messages')
    expect(b[0]).toEqual(a[0])
    expect(await rowCount(to)).toBe(1)
  })

  it('stores the same arrival twice in one batch once, answering both', async () => {
    const to = 'twice-in-batch@idem.test'
    const raw = encode(simpleMessage({ to }))
    const key = await arrivalKey(raw, 'sender@example.org', [to])
    const envelope = { from: 'sender@example.org', to: [to], key, maybeStored: true }
    const results = await ingestBatch(env, [
      { raw, envelope },
      { raw, envelope },
    ])
    expect(results[0]).toHaveProperty('messages')
    expect(results[1]).toEqual(results[0])
    expect(await rowCount(to)).toBe(1)
  })

  it('stores a message once when Email Routing retries email() with the same bytes', async () => {
    const to = 'routed-retry@idem.test'
    const raw = encode(simpleMessage({ to, subject: 'routed twice' }))
    await receiveEmail(routedEmail(raw, 'sender@example.org', to), env)
    await receiveEmail(routedEmail(raw, 'sender@example.org', to), env)
    expect(await rowCount(to)).toBe(1)
    // Different bytes to the same inbox are a different message.
    const other = encode(simpleMessage({ to, subject: 'another one' }))
    await receiveEmail(routedEmail(other, 'sender@example.org', to), env)
    expect(await rowCount(to)).toBe(2)
  })
})

describe('deliveries when the queue send fails at ingest (#15 item 2)', () => {
  it('leaves the delivery pending and unqueued, and requeueStranded queues it', async () => {
    const owner = await createAccount()
    const to = 'flaky-queue@idem.test'
    await reserve(to, owner.apiKey)
    await json(`/api/addresses/${to}`, {
      method: 'PUT',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhook: 'https://receiver.example.com/mail' }),
    })
    const { sent, queue } = flakyQueue(1)
    const now = new Date()
    const stored = await ingestMessage(
      { ...env, DELIVERIES: queue },
      encode(simpleMessage({ to, subject: 'queue blip' })),
      { from: 'sender@example.org', to: [to] },
      now,
    )
    const deliveryId = `${stored[0]._id}.webhook`
    expect(sent).toEqual([])
    const db = database(env.DB)
    const stranded = await findDelivery(db, deliveryId)
    expect(stranded?.status).toBe('pending')
    expect(stranded?.queuedAt).toBeNull()

    // Too young: the sweep leaves rows an ingest may still be queueing.
    expect(await requeueStranded(queue, db, now)).toBe(0)
    expect(sent).toEqual([])

    const later = new Date(now.getTime() + DELIVERY_REQUEUE_AFTER_MS + 1000)
    expect(await requeueStranded(queue, db, later)).toBe(1)
    expect(sent).toEqual([{ deliveryId }])
    const queued = await findDelivery(db, deliveryId)
    expect(queued?.status).toBe('pending')
    expect(queued?.queuedAt?.getTime()).toBe(later.getTime())

    // Queued once: the next sweep finds nothing to do.
    expect(await requeueStranded(queue, db, new Date(later.getTime() + 60_000))).toBe(0)
    expect(sent).toHaveLength(1)
  })
})
