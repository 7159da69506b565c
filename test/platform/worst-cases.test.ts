import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import worker from '../../src/index'
import {
  MAX_ATTACHMENTS_PER_BATCH,
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_MESSAGE_BYTES,
  MAX_OUTGOING_RECIPIENTS,
  MAX_RECIPIENTS_PER_MESSAGE,
  MAX_STORED_RECIPIENTS_PER_FIELD,
  RETENTION_MAX_DELETES_PER_RUN,
} from '../../src/limits'
import type { DeliveryJob } from '../../src/mail/fanout/notify'
import { BATCH_FULL, ingestBatch, ingestMessage } from '../../src/mail/inbound/ingest'
import { runRetention } from '../../src/mail/retention'
import { ADMIN, createAccount, json, reserve } from '../requests'
import { D1, EMAIL_SERVICE, WORKERS } from './cloudflare-limits'
import { Invocation } from './limits'

// Every entry point at the worst case the code's own limits allow, through bindings that
// enforce Cloudflare's production limits (issue #14 item 1). Each test names the plan it needs.

const encoder = new TextEncoder()

afterEach(() => {
  vi.restoreAllMocks()
})

function message(head: string[], body: string): Uint8Array {
  return encoder.encode([...head, '', body, ''].join('\r\n'))
}

function recipients(count: number, domain: string): string[] {
  return Array.from({ length: count }, (_, i) => `r${i}@${domain}`)
}

function withAttachments(count: number, to: string): Uint8Array {
  const parts = Array.from({ length: count }, (_, i) => [
    '--b',
    `Content-Type: text/plain; name="f${i}.txt"`,
    `Content-Disposition: attachment; filename="f${i}.txt"`,
    '',
    `file ${i} of ${to}`,
  ]).flat()
  return message(
    [
      'From: a@example.org',
      `To: ${to}`,
      'Subject: many attachments',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
    ],
    [...parts, '--b--'].join('\r\n'),
  )
}

/** A deliveries queue that keeps the jobs sent to it. */
function recordingQueue() {
  const jobs: DeliveryJob[] = []
  const recording = {
    send: async (body: DeliveryJob) => void jobs.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<DeliveryJob>>) => {
      for (const m of messages) jobs.push(m.body)
    },
  } as unknown as Queue
  return { jobs, recording }
}

async function rowOf(id: string) {
  return env.DB.prepare(
    `select to_json as "to", h.headers_json as headers from messages m
     join message_headers h on h.pack_key = m.pack_key and h.raw_offset = m.raw_offset
     where m.id = ?`,
  )
    .bind(id)
    .first<{ to: string; headers: string }>()
}

describe('ingest at the worst case (Workers Free unless named)', () => {
  it('#14.3 stores a To: header of 50,000 addresses within D1 row size, the list capped in the row', async () => {
    const invocation = new Invocation('free')
    // 50,000 short addresses: about 490 KB, under the 512 KB header cap, so it is parsed.
    const to = Array.from({ length: 50_000 }, (_, i) => `${i}@w.t`).join(',')
    const [stored] = await ingestMessage(
      invocation.env(),
      message(['From: a@example.org', `To: ${to}`, 'Subject: wide'], 'hi'),
      { from: 'a@example.org', to: ['one@wide.test'] },
    )
    invocation.assertWithinLimits()
    expect(invocation.largestBoundValue).toBeLessThanOrEqual(D1.valueOrRowBytes)
    const row = await rowOf(stored._id)
    expect(JSON.parse(row!.to)).toHaveLength(MAX_STORED_RECIPIENTS_PER_FIELD)
    // The full list is still in the headers (and the raw message).
    expect(row!.headers).toContain('49999@w.t')
  })

  it('#14.3 refuses 1,500 attachments permanently (413) without touching storage', async () => {
    const invocation = new Invocation('free')
    const refusal = await ingestMessage(invocation.env(), withAttachments(1500, 'x@att.test'), {
      from: 'a@example.org',
      to: recipients(50, 'att.test'),
    }).catch((error: Error) => error)
    invocation.assertWithinLimits()
    expect(refusal).toMatchObject({ name: 'Refusal', status: 413 })
    expect((refusal as Error).message).toContain(`at most ${MAX_ATTACHMENTS_PER_MESSAGE}`)
    expect(invocation.largestBatch).toBeLessThanOrEqual(D1.statementsPerBatch)
  })

  it('#14.3 stores the most attachments to the most recipients on Workers Paid, batches split', async () => {
    const invocation = new Invocation('paid')
    const stored = await ingestMessage(
      invocation.env(),
      withAttachments(MAX_ATTACHMENTS_PER_MESSAGE, 'x@most.test'),
      { from: 'a@example.org', to: recipients(MAX_RECIPIENTS_PER_MESSAGE, 'most.test') },
    )
    invocation.assertWithinLimits()
    expect(stored).toHaveLength(MAX_RECIPIENTS_PER_MESSAGE)
    // Every recipient row has every attachment row (copied by insert-select).
    const last = await env.DB.prepare(
      'select count(*) as n from message_attachments where message_id = ?',
    )
      .bind(stored[stored.length - 1]._id)
      .first<{ n: number }>()
    expect(last?.n).toBe(MAX_ATTACHMENTS_PER_MESSAGE)
  })

  it('#14.3 stores the headers of a delivery to 100 inboxes once, bound once', async () => {
    const invocation = new Invocation('free')
    // About 400 KB of headers: copied into 100 rows they were 40 MB of D1 writes.
    const wide = `X-Wide: ${'w'.repeat(400_000)}`
    const stored = await ingestMessage(
      invocation.env(),
      message(['From: a@example.org', 'To: x@once.test', 'Subject: once', wide], 'hi'),
      { from: 'a@example.org', to: recipients(MAX_RECIPIENTS_PER_MESSAGE, 'once.test') },
    )
    invocation.assertWithinLimits()
    expect(stored).toHaveLength(MAX_RECIPIENTS_PER_MESSAGE)
    // Bound once (about 400 KB), not once per recipient row (40 MB).
    expect(invocation.boundBytes).toBeLessThan(1_000_000)
    const copies = await env.DB.prepare(
      "select count(*) as n from message_headers where headers_json like '%wwwwwwwwww%'",
    ).first<{ n: number }>()
    expect(copies?.n).toBe(1)
    // Every recipient's message still answers with them.
    const last = stored[stored.length - 1]
    const headers = await json<Record<string, string[]>>(
      `/api/addresses/${last.inbox}/messages/${last._id}/headers`,
    )
    expect(headers['x-wide'][0]).toHaveLength(400_000)
    // They go with the delivery's last row, not before.
    await env.DB.prepare("delete from messages where inbox <> ? and inbox like '%@once.test'")
      .bind(last.inbox)
      .run()
    const kept = await env.DB.prepare('select count(*) as n from message_headers').first<{
      n: number
    }>()
    await env.DB.prepare('delete from messages where id = ?').bind(last._id).run()
    const after = await env.DB.prepare('select count(*) as n from message_headers').first<{
      n: number
    }>()
    expect(after!.n).toBe(kept!.n - 1)
  })

  it('#14.3 bounds the attachments of one ingest call on Workers Paid: the rest are sent again', async () => {
    const invocation = new Invocation('paid')
    // 10 messages of the most attachments, all new: 1,000 R2 checks and 1,000 writes in one call.
    const items = Array.from({ length: 10 }, (_, i) => ({
      raw: withAttachments(MAX_ATTACHMENTS_PER_MESSAGE, `m${i}@full.test`),
      envelope: { from: 'a@example.org', to: [`m${i}@full.test`], key: `full-batch-${i}` },
    }))
    const results = await ingestBatch(invocation.env(), items)
    invocation.assertWithinLimits()
    const fits = MAX_ATTACHMENTS_PER_BATCH / MAX_ATTACHMENTS_PER_MESSAGE
    expect(results.slice(0, fits).every((result) => 'messages' in result)).toBe(true)
    for (const result of results.slice(fits)) {
      expect(result).toMatchObject({ status: 503, error: BATCH_FULL })
    }
    // Left out means not stored: the bridge's next batch stores them.
    const next = new Invocation('paid')
    const again = await ingestBatch(next.env(), items.slice(fits, 2 * fits))
    next.assertWithinLimits()
    expect(again.every((result) => 'messages' in result)).toBe(true)
  }, 60_000)

  it('#14.1 stores a 25 MiB single-attachment message on Workers Free', async () => {
    const invocation = new Invocation('free')
    const line = 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n'
    const lines = Math.floor((25 * 1024 * 1024 - 1024) / line.length)
    const raw = message(
      [
        'From: a@example.org',
        'To: big@size.test',
        'Subject: big',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
      ],
      [
        '--b',
        'Content-Type: application/octet-stream; name="big.bin"',
        'Content-Transfer-Encoding: base64',
        '',
        line.repeat(lines),
        '--b--',
      ].join('\r\n'),
    )
    const [stored] = await ingestMessage(invocation.env(), raw, {
      from: 'a@example.org',
      to: ['big@size.test'],
    })
    invocation.assertWithinLimits()
    expect(stored.inbox).toBe('big@size.test')
  }, 60_000)

  it('#14.1 stores the fullest bridge batch (50 messages x 100 recipients) on Workers Free', async () => {
    const invocation = new Invocation('free')
    const items = Array.from({ length: 50 }, (_, i) => ({
      raw: message(['From: a@example.org', 'To: x@bridge.test', `Subject: m${i}`], 'hi'),
      envelope: {
        from: 'a@example.org',
        to: recipients(MAX_RECIPIENTS_PER_MESSAGE, 'bridge.test'),
        key: `bridge-batch-${i}`,
      },
    }))
    const results = await ingestBatch(invocation.env(), items)
    invocation.assertWithinLimits()
    expect(results.every((result) => 'messages' in result && result.messages.length === 100)).toBe(
      true,
    )
    expect(invocation.largestBatch).toBeLessThanOrEqual(D1.statementsPerBatch)
    expect(invocation.d1Queries).toBeLessThanOrEqual(D1.queriesPerInvocation.free)
  }, 60_000)
})

describe('retention at the worst case', () => {
  it('#14.1 a run with a backlog stays within Workers Free limits', async () => {
    const old = new Date(Date.now() - 200 * 3_600_000)
    // 12 arrivals x 100 recipients: 1,200 expired public rows, more than one run deletes.
    await ingestBatch(
      env,
      Array.from({ length: 12 }, (_, i) => ({
        raw: message(['From: a@example.org', 'To: x@old.test', `Subject: old ${i}`], 'old'),
        envelope: { from: 'a@example.org', to: recipients(100, `old${i}.test`) },
      })),
      old,
    )
    const invocation = new Invocation('free')
    const report = await runRetention(invocation.env())
    invocation.assertWithinLimits()
    expect(report.expired).toBe(RETENTION_MAX_DELETES_PER_RUN)
    expect(report.backlog).toBe(true)
  }, 60_000)
})

describe('the deliveries consumer at the worst case', () => {
  it('#14.5 delivers a full batch of 25 webhooks with at most 6 connections open at once', async () => {
    const owner = await createAccount({ privateAddressCredits: 25 })
    const { jobs, recording } = recordingQueue()
    for (let i = 0; i < 25; i++) {
      const address = `hook${i}@conn.test`
      await reserve(address, owner.apiKey)
      await json(`/api/addresses/${address}`, {
        method: 'PUT',
        headers: { ...owner.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ webhook: `https://receiver.example.com/${i}` }),
      })
    }
    await ingestMessage(
      { ...env, DELIVERIES: recording },
      message(['From: a@example.org', 'To: hook0@conn.test', 'Subject: hooks'], 'hi'),
      { from: 'a@example.org', to: Array.from({ length: 25 }, (_, i) => `hook${i}@conn.test`) },
    )
    expect(jobs).toHaveLength(25)

    // 4 D1 queries per webhook delivery: a batch of 25 (100 queries) needs Workers Paid.
    const invocation = new Invocation('paid')
    // The receiver answers only after a turn of the event loop, so concurrent requests overlap.
    const receiver = async () => {
      await scheduler.wait(5)
      return new Response('ok')
    }
    vi.spyOn(globalThis, 'fetch').mockImplementation(invocation.fetch(receiver))
    const batch = createMessageBatch<DeliveryJob>('mailsac-edge-deliveries', [
      ...jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    ])
    await worker.queue(batch, invocation.env())
    invocation.assertWithinLimits()
    expect(invocation.peakConnections).toBe(WORKERS.simultaneousConnections)
    const delivered = await env.DB.prepare(
      "select count(*) as n from deliveries where status = 'delivered' and address like '%@conn.test'",
    ).first<{ n: number }>()
    expect(delivered?.n).toBe(25)
  }, 60_000)
})

describe('outbound mail at the worst case', () => {
  it('#14.1 sends the most recipients (one local, the rest through send_email) on Workers Free', async () => {
    const account = await createAccount({ sendsRemaining: MAX_OUTGOING_RECIPIENTS })
    for (const [path, method, body] of [
      ['/internal/admin/domains', 'POST', { domain: 'out-worst.test', account: account.id }],
      ['/internal/admin/domains/out-worst.test/sending', 'PUT', { verified: true }],
    ] as const) {
      await json(path, {
        method,
        headers: { ...ADMIN, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
    }
    const to = [
      'local@inbox-worst.test',
      ...Array.from({ length: MAX_OUTGOING_RECIPIENTS - 1 }, (_, i) => `r${i}@far.example`),
    ]
    const invocation = new Invocation('free')
    const sent: { to: string; bytes: number }[] = []
    const bindings = invocation.env({ ACCEPTED_DOMAINS: 'inbox-worst.test' })
    bindings.EMAIL = invocation.sendEmail(env.EMAIL, sent)
    const ctx = createExecutionContext()
    const response = await worker.fetch(
      new Request('http://mail.test/api/outgoing-messages', {
        method: 'POST',
        headers: { 'Mailsac-Key': account.apiKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          to,
          from: 'app@out-worst.test',
          subject: 'worst case',
          text: 'Your code is 123456. '.repeat(50_000),
        }),
      }),
      bindings,
      ctx,
    )
    await waitOnExecutionContext(ctx)
    invocation.assertWithinLimits()
    expect(response.status).toBe(200)
    const result = await response.json<{ recipients: { delivered: boolean; via: string }[] }>()
    expect(result.recipients.map((r) => [r.delivered, r.via])).toEqual([
      [true, 'inbox'],
      ...to.slice(1).map(() => [true, 'send_email']),
    ])
    expect(sent.map((s) => s.to)).toEqual(to.slice(1))
    expect(Math.max(...sent.map((s) => s.bytes))).toBeLessThanOrEqual(EMAIL_SERVICE.messageBytes)
    expect(invocation.d1Queries).toBeLessThanOrEqual(D1.queriesPerInvocation.free)
  }, 60_000)

  it('#14.1 forwards a full queue batch of 25 messages of 1 MiB with at most 6 sends at once (Paid)', async () => {
    const owner = await createAccount({ privateAddressCredits: 25, sendsRemaining: 25 })
    const { jobs, recording } = recordingQueue()
    const addresses = Array.from({ length: 25 }, (_, i) => `fwd${i}@fwd-worst.test`)
    for (const address of addresses) {
      await reserve(address, owner.apiKey)
      await json(`/api/addresses/${address}`, {
        method: 'PUT',
        headers: { ...owner.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ forward: 'me@elsewhere.example' }),
      })
    }
    const body = ('f'.repeat(998) + '\r\n').repeat(1049)
    await ingestMessage(
      { ...env, DELIVERIES: recording },
      message(['From: a@example.org', 'To: fwd0@fwd-worst.test', 'Subject: forwards'], body),
      { from: 'a@example.org', to: addresses },
    )
    expect(jobs).toHaveLength(25)

    const invocation = new Invocation('paid')
    let open = 0
    let peak = 0
    const sent: { to: string; bytes: number }[] = []
    const EMAIL = invocation.sendEmail(
      {
        send: async () => {
          open++
          peak = Math.max(peak, open)
          await scheduler.wait(5)
          open--
        },
      } as unknown as SendEmail,
      sent,
    )
    const batch = createMessageBatch<DeliveryJob>('mailsac-edge-deliveries', [
      ...jobs.map((job, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body: job })),
    ])
    await worker.queue(batch, { ...invocation.env(), EMAIL })
    invocation.assertWithinLimits()
    expect(sent).toHaveLength(25)
    expect(Math.min(...sent.map((s) => s.bytes))).toBeGreaterThan(1024 * 1024)
    expect(peak).toBeLessThanOrEqual(WORKERS.simultaneousConnections)
    expect(MAX_MESSAGE_BYTES).toBeLessThanOrEqual(EMAIL_SERVICE.messageBytes)
  }, 60_000)
})
