import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { eq } from 'drizzle-orm'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { database } from '../../../src/db/client'
import { findDelivery } from '../../../src/db/queries/deliveries'
import { privateAddresses } from '../../../src/db/schema'
import worker from '../../../src/index'
import {
  DELIVERIES_DEAD_LETTER_QUEUE,
  DELIVERY_ID_HEADER,
} from '../../../src/mail/fanout/deliveries'
import { forwardedMessage } from '../../../src/mail/fanout/forward'
import { ingestMessage } from '../../../src/mail/inbound/ingest'
import { notifyStored, type DeliveryJob } from '../../../src/mail/fanout/notify'
import { verifyWebhook } from '../../../src/mail/fanout/webhook-signature'
import { call, createAccount, ingest, json, latin1, reserve, simpleMessage } from '../../requests'

const QUEUE = 'mailsac-edge-deliveries'

afterEach(() => {
  vi.restoreAllMocks()
})

/** A queue binding that only records what was sent, so each test runs the consumer itself. */
function recordingQueue() {
  const sent: DeliveryJob[] = []
  const queue = {
    send: async (body: DeliveryJob) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<DeliveryJob>>) => {
      for (const message of messages) sent.push(message.body)
    },
  }
  return { sent, queue: queue as unknown as Queue }
}

async function configure(email: string, headers: Record<string, string>, settings: object) {
  return json(`/api/addresses/${email}`, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(settings),
  })
}

/**
 * Stores a message through the real ingest pipeline, which queues its deliveries before it
 * acknowledges; the queue records what was sent. Returns the stored ids and the queued jobs.
 */
async function storeAndQueue(to: string, subject = 'Hooked') {
  const { sent, queue } = recordingQueue()
  const stored = await ingestMessage(
    { ...env, DELIVERIES: queue },
    new TextEncoder().encode(simpleMessage({ to, subject })),
    { from: 'sender@example.org', to: [to] },
  )
  // A second announcement of the same mail queues nothing new: receivers see it once.
  const again = await notifyStored(
    { DB: env.DB, REALTIME: env.REALTIME, DELIVERIES: queue },
    stored,
  )
  expect(again.queued).toEqual([])
  return { stored, jobs: sent }
}

/** Runs the Worker's queue() handler on one queue message, as attempt number `attempts`. */
async function consume(job: DeliveryJob, attempts: number, bindings: Env = env, queue = QUEUE) {
  const batch = createMessageBatch<DeliveryJob>(queue, [
    { id: `msg-${attempts}`, timestamp: new Date(), attempts, body: job },
  ])
  // getQueueResult reports which messages were retried, not their delays: record those.
  const delays: (number | undefined)[] = []
  const message = batch.messages[0]
  const retry = message.retry.bind(message)
  message.retry = (options) => {
    delays.push(options?.delaySeconds)
    retry(options)
  }
  const ctx = createExecutionContext()
  await worker.queue(batch, bindings)
  return { ...(await getQueueResult(batch, ctx)), delays }
}

describe('webhooks', () => {
  it('retries a failing receiver with backoff and delivers once, signed, with attempts recorded', async () => {
    const owner = await createAccount()
    await reserve('hooked@dl.test', owner.apiKey)
    const address = await configure('hooked@dl.test', owner.headers, {
      webhook: 'https://receiver.example.com/mail',
    })
    expect(address.webhookSecret).toMatch(/^whsec_[A-Za-z0-9]{43}$/)
    const { stored, jobs } = await storeAndQueue('hooked@dl.test')
    expect(jobs).toEqual([{ deliveryId: `${stored[0]._id}.webhook` }])

    // The receiver processes every request it gets, de-duplicating on the delivery id, but
    // its first two answers are lost as 503s: the sender cannot know it already has them.
    const received = new Map<string, { body: string; headers: Headers }>()
    const requests: Request[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const request = new Request(input, init)
      requests.push(request.clone())
      const body = await request.text()
      received.set(request.headers.get(DELIVERY_ID_HEADER) ?? '', {
        body,
        headers: request.headers,
      })
      return requests.length <= 2 ? new Response('busy', { status: 503 }) : new Response('ok')
    })

    const first = await consume(jobs[0], 1)
    expect(first.retryMessages).toEqual([{ msgId: 'msg-1' }])
    expect(first.delays).toEqual([60])
    const second = await consume(jobs[0], 2)
    expect(second.retryMessages).toEqual([{ msgId: 'msg-2' }])
    expect(second.delays).toEqual([120])
    const third = await consume(jobs[0], 3)
    expect(third.explicitAcks).toEqual(['msg-3'])
    // Queues deliver at least once: a duplicate of the queue message sends nothing again.
    const duplicate = await consume(jobs[0], 4)
    expect(duplicate.explicitAcks).toEqual(['msg-4'])

    expect(requests).toHaveLength(3)
    expect(requests.every((r) => r.url === 'https://receiver.example.com/mail')).toBe(true)
    expect(received.size).toBe(1)
    const [[deliveryId, { body, headers }]] = [...received]
    expect(deliveryId).toBe(`${stored[0]._id}.webhook`)
    const payload = JSON.parse(body)
    // OpenAPI EmailMessageWebhook: the message plus text, body, raw and headers.
    expect(payload).toMatchObject({
      _id: stored[0]._id,
      inbox: 'hooked@dl.test',
      subject: 'Hooked',
      text: expect.stringContaining('Hi there'),
      raw: expect.stringContaining('Subject: Hooked'),
      headers: expect.objectContaining({ subject: 'Hooked' }),
    })
    const signed = {
      timestamp: headers.get('X-Mailsac-Timestamp'),
      signature: headers.get('X-Mailsac-Signature'),
    }
    expect(await verifyWebhook(address.webhookSecret, signed, body)).toBe(true)
    expect(
      await verifyWebhook(address.webhookSecret, signed, body.replace('Hooked', 'Hacked')),
    ).toBe(false)
    expect(await verifyWebhook('whsec_wrong', signed, body)).toBe(false)
    const later = (Number(signed.timestamp) + 3600) * 1000
    expect(await verifyWebhook(address.webhookSecret, signed, body, later)).toBe(false)

    const row = await findDelivery(database(env.DB), deliveryId)
    expect(row).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastStatusCode: 200,
      lastError: null,
    })
    expect(row?.deliveredAt).toBeInstanceOf(Date)

    const listed = await json('/api/addresses/hooked@dl.test/webhook-deliveries', {
      headers: owner.headers,
    })
    expect(listed).toEqual([
      expect.objectContaining({
        _id: deliveryId,
        messageId: stored[0]._id,
        kind: 'webhook',
        target: 'https://receiver.example.com/mail',
        status: 'delivered',
        attempts: 3,
        lastStatusCode: 200,
      }),
    ])
  })

  it('shows deliveries to the owner only', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    await reserve('mine@dl.test', owner.apiKey)
    const path = '/api/addresses/mine@dl.test/webhook-deliveries'
    expect((await call(path, { headers: owner.headers })).status).toBe(200)
    expect((await call(path, { headers: other.headers })).status).toBe(401)
    expect((await call(path)).status).toBe(401)
    expect(
      (await call('/api/addresses/public@dl.test/webhook-deliveries', { headers: owner.headers }))
        .status,
    ).toBe(401)
  })

  it('records failures, dead-letters after the last attempt and marks what reaches the DLQ dead', async () => {
    const owner = await createAccount()
    await reserve('down@dl.test', owner.apiKey)
    await configure('down@dl.test', owner.headers, { webhook: 'https://down.example.com/x' })
    const { jobs } = await storeAndQueue('down@dl.test')
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      async () => new Response('no', { status: 500 }),
    )

    const early = await consume(jobs[0], 5)
    expect(early.retryMessages).toEqual([{ msgId: 'msg-5' }])
    expect(early.delays).toEqual([60 * 16])
    const db = database(env.DB)
    expect(await findDelivery(db, jobs[0].deliveryId)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatusCode: 500,
      lastError: 'HTTP 500',
    })
    // The last attempt is retried too, so the Queue moves it to the dead-letter queue.
    const last = await consume(jobs[0], 12)
    expect(last.retryMessages).toEqual([{ msgId: 'msg-12' }])
    expect(last.delays).toEqual([12 * 60 * 60])
    expect(await findDelivery(db, jobs[0].deliveryId)).toMatchObject({
      status: 'dead',
      attempts: 2,
    })
    const dead = await consume(jobs[0], 1, env, DELIVERIES_DEAD_LETTER_QUEUE)
    expect(dead.ackAll).toBe(true)
    expect(await findDelivery(db, jobs[0].deliveryId)).toMatchObject({ status: 'dead' })
  })

  it('refuses an internal target at delivery time without sending anything', async () => {
    const owner = await createAccount()
    await reserve('sneaky@dl.test', owner.apiKey)
    await configure('sneaky@dl.test', owner.headers, { webhook: 'https://ok.example.com/x' })
    const { jobs } = await storeAndQueue('sneaky@dl.test')
    // Changed behind the API's back (or saved before the rules were stricter).
    await database(env.DB)
      .update(privateAddresses)
      .set({ webhook: 'https://169.254.169.254/latest/meta-data' })
      .where(eq(privateAddresses.email, 'sneaky@dl.test'))
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    const result = await consume(jobs[0], 1)
    expect(result.explicitAcks).toEqual(['msg-1'])
    expect(fetchSpy).not.toHaveBeenCalled()
    expect(await findDelivery(database(env.DB), jobs[0].deliveryId)).toMatchObject({
      status: 'failed',
      lastError: expect.stringContaining('public host'),
    })
  })

  it('refuses private, loopback, link-local and metadata webhook hosts when saved', async () => {
    const owner = await createAccount()
    await reserve('ssrf@dl.test', owner.apiKey)
    for (const url of [
      'https://127.0.0.1/x',
      'https://2130706433/x',
      'https://0x7f.1/x',
      'https://10.1.2.3/x',
      'https://172.20.0.1/x',
      'https://192.168.1.1/x',
      'https://100.64.0.1/x',
      'https://169.254.169.254/latest',
      'https://0.0.0.0/x',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[::ffff:a9fe:a9fe]/x',
      'https://[fd00::1]/x',
      'https://[fe80::1]/x',
      'https://localhost/x',
      'https://printer.local/x',
      'https://metadata.google.internal/x',
      'https://intranet/x',
      'https://user:pass@hooks.example.com/x',
    ]) {
      const response = await call('/api/addresses/ssrf@dl.test', {
        method: 'PUT',
        headers: { ...owner.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ webhook: url }),
      })
      expect(response.status, url).toBe(400)
      expect((await response.json<{ message: string }>()).message).toContain('webhook')
    }
    for (const url of [
      'https://hooks.example.com/x',
      'https://8.8.8.8/x',
      'https://[2606:4700::1111]/x',
    ]) {
      await configure('ssrf@dl.test', owner.headers, { webhook: url })
    }
  })

  it('#13.12 refuses IPv6 spellings that embed loopback or private IPv4, and non-https ports, when saved', async () => {
    const owner = await createAccount()
    await reserve('ssrf6@dl.test', owner.apiKey)
    for (const url of [
      'https://[::ffff:0:7f00:1]/', // IPv4-translated 127.0.0.1 (RFC 6145)
      'https://[2001::7f00:1]/', // Teredo
      'https://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
      'https://[64:ff9b::a00:1]/', // NAT64 of 10.0.0.1
      'https://[::7f00:1]/', // IPv4-compatible
      'https://[2001:db8::1]/', // documentation
      'https://[ff02::1]/', // multicast
      'https://[100::1]/', // discard
      'https://255.255.255.255/',
      'https://198.51.100.7/',
      'https://hooks.example.com:22/x',
      'https://hooks.example.com:6379/x',
      'https://8.8.8.8:8080/x',
    ]) {
      const response = await call('/api/addresses/ssrf6@dl.test', {
        method: 'PUT',
        headers: { ...owner.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ webhook: url }),
      })
      expect(response.status, url).toBe(400)
    }
    for (const url of ['https://hooks.example.com:8443/x', 'https://hooks.example.com:443/x']) {
      await configure('ssrf6@dl.test', owner.headers, { webhook: url })
    }
  })

  it('#13.12 refuses an IPv4-translated loopback target at delivery time', async () => {
    const owner = await createAccount()
    await reserve('sneaky6@dl.test', owner.apiKey)
    await configure('sneaky6@dl.test', owner.headers, { webhook: 'https://ok.example.com/x' })
    const { jobs } = await storeAndQueue('sneaky6@dl.test')
    await database(env.DB)
      .update(privateAddresses)
      .set({ webhook: 'https://[::ffff:0:7f00:1]/' })
      .where(eq(privateAddresses.email, 'sneaky6@dl.test'))
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    await consume(jobs[0], 1)
    expect(fetchSpy).not.toHaveBeenCalled()
    expect(await findDelivery(database(env.DB), jobs[0].deliveryId)).toMatchObject({
      status: 'failed',
    })
  })
})

describe('Slack webhooks', () => {
  it('posts a short message, with from and to only when webhookSlackToFrom is set', async () => {
    const owner = await createAccount()
    await reserve('slack@dl.test', owner.apiKey)
    await configure('slack@dl.test', owner.headers, {
      webhookSlack: 'https://hooks.slack.com/services/T0/B0/x',
    })
    const posts: { text: string }[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      posts.push(await new Request(input, init).json())
      return new Response('ok')
    })
    const quiet = await storeAndQueue('slack@dl.test', 'Quiet <one>')
    expect((await consume(quiet.jobs[0], 1)).explicitAcks).toEqual(['msg-1'])
    await configure('slack@dl.test', owner.headers, { webhookSlackToFrom: true })
    const loud = await storeAndQueue('slack@dl.test', 'Loud')
    await consume(loud.jobs[0], 1)
    expect(posts[0].text).toBe('New email in slack@dl.test\nSubject: Quiet &lt;one&gt;')
    expect(posts[1].text).toBe(
      'New email in slack@dl.test\nFrom: sender@example.org\nTo: slack@dl.test\nSubject: Loud',
    )
  })
})

describe('forwarding', () => {
  it('#13.8 costs the owner one outgoing credit; with none left it is refused, nothing sent', async () => {
    const owner = await createAccount({ sendsRemaining: 1 })
    await reserve('metered@dl.test', owner.apiKey)
    await configure('metered@dl.test', owner.headers, { forward: 'out@elsewhere.test' })
    const sends: EmailMessage[] = []
    const EMAIL = { send: async (m: EmailMessage) => void sends.push(m) } as unknown as SendEmail
    const credits = async () =>
      (await json('/api/me', { headers: owner.headers })).sendsRemaining as number
    const first = await storeAndQueue('metered@dl.test', 'one')
    await consume(first.jobs[0], 1, { ...env, EMAIL })
    expect(sends).toHaveLength(1)
    expect(await credits()).toBe(0)
    const second = await storeAndQueue('metered@dl.test', 'two')
    const result = await consume(second.jobs[0], 1, { ...env, EMAIL })
    expect(result.explicitAcks).toEqual(['msg-1'])
    expect(sends).toHaveLength(1)
    expect(await findDelivery(database(env.DB), second.jobs[0].deliveryId)).toMatchObject({
      status: 'failed',
      lastError: expect.stringContaining('No outgoing credits left'),
    })
    expect(await credits()).toBe(0)
  })

  it('#13.8 gives the credit back when send_email refuses the forward', async () => {
    const owner = await createAccount({ sendsRemaining: 2 })
    await reserve('refused@dl.test', owner.apiKey)
    await configure('refused@dl.test', owner.headers, { forward: 'out@elsewhere.test' })
    const EMAIL = {
      send: async () => {
        throw new Error('nope')
      },
    } as unknown as SendEmail
    const { jobs } = await storeAndQueue('refused@dl.test', 'x')
    await consume(jobs[0], 1, { ...env, EMAIL })
    expect((await json('/api/me', { headers: owner.headers })).sendsRemaining).toBe(2)
  })

  it('sends one message through send_email, marked as forwarded', async () => {
    const owner = await createAccount({ sendsRemaining: 1 })
    await reserve('fwd@dl.test', owner.apiKey)
    await configure('fwd@dl.test', owner.headers, { forward: 'me@elsewhere.test' })
    const { stored, jobs } = await storeAndQueue('fwd@dl.test', 'Pass it on')
    expect(jobs).toEqual([{ deliveryId: `${stored[0]._id}.forward` }])
    const sends: EmailMessage[] = []
    // The real binding (wrangler's simulation) checks the message; this records the calls.
    const EMAIL = {
      send: async (message: EmailMessage) => {
        sends.push(message)
        return env.EMAIL.send(message)
      },
    } as unknown as SendEmail
    const result = await consume(jobs[0], 1, { ...env, EMAIL })
    expect(result.explicitAcks).toEqual(['msg-1'])
    expect(sends).toHaveLength(1)
    expect(sends[0]).toMatchObject({ from: 'fwd@dl.test', to: 'me@elsewhere.test' })
    expect(await findDelivery(database(env.DB), jobs[0].deliveryId)).toMatchObject({
      status: 'delivered',
      attempts: 1,
    })
  })

  it('#14.2 streams a 3 MiB forward: the header section read alone, the body as one R2 stream, the bytes as forwardedMessage makes them', async () => {
    const owner = await createAccount({ sendsRemaining: 1 })
    await reserve('big-fwd@dl.test', owner.apiKey)
    await configure('big-fwd@dl.test', owner.headers, { forward: 'me@elsewhere.test' })
    const line = 'z'.repeat(998) + '\r\n'
    const raw = new TextEncoder().encode(
      simpleMessage({ to: 'big-fwd@dl.test', subject: 'Big', body: line.repeat(3 * 1049) }),
    )
    const { sent, queue } = recordingQueue()
    const [stored] = await ingestMessage({ ...env, DELIVERIES: queue }, raw, {
      from: 'sender@example.org',
      to: ['big-fwd@dl.test'],
    })
    // What the consumer asks of R2: ranges, and how many bytes it actually reads of each.
    const reads: { length: number }[] = []
    const MAIL = new Proxy(env.MAIL, {
      get(target, property) {
        if (property !== 'get') return Reflect.get(target, property).bind(target)
        return async (key: string, options?: R2GetOptions) => {
          const object = await target.get(key, options)
          const range = options?.range as { length: number } | undefined
          if (object && range) reads.push({ length: range.length })
          return object
        }
      },
    })
    let received: Uint8Array | null = null
    const EMAIL = {
      send: async (message: EmailMessage) => {
        // Locally, the raw stream is on this key (miniflare's EmailMessage).
        const stream = (message as unknown as Record<string, ReadableStream>)['EmailMessage::raw']
        received = new Uint8Array(await new Response(stream).arrayBuffer())
      },
    } as unknown as SendEmail
    const result = await consume(sent[0], 1, { ...env, MAIL, EMAIL })
    expect(result.explicitAcks).toEqual(['msg-1'])
    const expected = forwardedMessage(raw, {
      inbox: 'big-fwd@dl.test',
      originalFrom: 'sender@example.org',
      messageId: `${stored._id}.forward@dl.test`,
      deliveryId: `${stored._id}.forward`,
    })
    expect(received).not.toBeNull()
    expect(received!.byteLength).toBe(expected.byteLength)
    const differsAt = expected.findIndex((byte, i) => received![i] !== byte)
    expect(differsAt).toBe(-1)
    // One read of at most the header cap, one of the body: never the whole message at once.
    const headEnd = new TextDecoder('latin1').decode(raw).indexOf('\r\n\r\n') + 4
    expect(reads).toEqual([{ length: 512 * 1024 + 4 }, { length: raw.byteLength - headEnd }])
  })

  it('keeps the body, rewrites From with Reply-To the sender and drops trace headers', () => {
    const raw = latin1(
      [
        'Received: from mx.example.org by us',
        '\tfolded continuation',
        'DKIM-Signature: v=1; b=abc',
        'From: Bob <bob@example.org>',
        'To: fwd@dl.test',
        'Subject: Caf\xe9',
        'Message-ID: <orig@example.org>',
        '',
        'Body line \xe9',
        '',
      ].join('\r\n'),
    )
    const out = new TextDecoder('latin1').decode(
      forwardedMessage(raw, {
        inbox: 'fwd@dl.test',
        originalFrom: 'bob@example.org',
        messageId: 'abc-0.forward@dl.test',
        deliveryId: 'abc-0.forward',
      }),
    )
    const [head, body] = out.split('\r\n\r\n')
    expect(head.split('\r\n')).toEqual([
      'From: "bob@example.org via fwd@dl.test" <fwd@dl.test>',
      'Message-ID: <abc-0.forward@dl.test>',
      'X-Mailsac-Forwarded-For: fwd@dl.test',
      'X-Mailsac-Delivery-Id: abc-0.forward',
      'X-Original-Message-ID: <orig@example.org>',
      'Reply-To: Bob <bob@example.org>',
      'To: fwd@dl.test',
      'Subject: Caf\xe9',
    ])
    expect(body).toBe('Body line \xe9\r\n')
  })
})

describe('deliveries that can never succeed', () => {
  it('#14.5 marks a webhook answered 4xx (not 408/429) failed at once, and retries a 429', async () => {
    const owner = await createAccount()
    await reserve('gone@dl.test', owner.apiKey)
    await configure('gone@dl.test', owner.headers, { webhook: 'https://receiver.example.com/x' })
    const { stored, jobs } = await storeAndQueue('gone@dl.test')
    const answers = [429, 410]
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      async () => new Response('no', { status: answers.shift() }),
    )
    const first = await consume(jobs[0], 1)
    expect(first.retryMessages).toEqual([{ msgId: 'msg-1' }])
    const second = await consume(jobs[0], 2)
    expect(second.explicitAcks).toEqual(['msg-2'])
    const delivery = await findDelivery(database(env.DB), `${stored[0]._id}.webhook`)
    expect(delivery).toMatchObject({ status: 'failed', lastError: 'HTTP 410' })
  })
})
