import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from 'cloudflare:test'
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import worker from '../../src/index'
import { INGEST, call, createAccount, json, reserve } from '../requests'
import { D1, WORKERS } from './cloudflare-limits'
import { Invocation } from './limits'

// The rows of issue #14's table, each through the Worker's own handlers (`fetch`, `queue`) with
// the limit-enforcing bindings of ./limits.ts. Unlike ./worst-cases.test.ts, which calls the
// ingest functions, this file uses only the HTTP routes and handlers, so it runs unchanged on
// the code the issue was filed against (6a2638c), where every test here fails: the closing note
// of #14 lists what each one breached there.

afterEach(() => {
  vi.restoreAllMocks()
})

const text = (lines: string[], body: string) => [...lines, '', body, ''].join('\r\n')
const recipients = (count: number, domain: string) =>
  Array.from({ length: count }, (_, i) => `r${i}@${domain}`)

/** One request through the Worker's fetch handler, as one invocation with `bindings`. */
async function invoke(path: string, init: RequestInit, bindings: Env) {
  const ctx = createExecutionContext()
  const response = await worker.fetch(new Request(`http://mail.test${path}`, init), bindings, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

/** POST /internal/ingest: the raw message as the body, the envelope in the query. */
function ingestRequest(raw: string, to: string[]): [string, RequestInit] {
  const query = new URLSearchParams([['from', 'a@example.org'], ...to.map((r) => ['to', r])])
  return [`/internal/ingest?${query}`, { method: 'POST', headers: INGEST, body: raw }]
}

/** The bridge's POST /internal/ingest/batch form. */
function batchRequest(items: { raw: string; to: string[] }[]): [string, RequestInit] {
  const form = new FormData()
  for (const { raw, to } of items) {
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to }))
    form.append('message', new Blob([raw]), 'message.eml')
  }
  return ['/internal/ingest/batch', { method: 'POST', headers: INGEST, body: form }]
}

function withAttachments(count: number) {
  const parts = Array.from({ length: count }, (_, i) => [
    '--b',
    `Content-Type: text/plain; name="f${i}.txt"`,
    `Content-Disposition: attachment; filename="f${i}.txt"`,
    '',
    `file ${i}`,
  ]).flat()
  return text(
    [
      'From: a@example.org',
      'To: x@att.test',
      'Subject: many attachments',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
    ],
    [...parts, '--b--'].join('\r\n'),
  )
}

/**
 * `db` with the bytes of every result it returns counted: what a list route reads out of D1,
 * which the response then carries through the isolate's memory.
 */
function countingResults(db: D1Database, counter: { bytes: number }): D1Database {
  const add = <T>(result: T) => {
    counter.bytes += new TextEncoder().encode(JSON.stringify(result ?? null)).byteLength
    return result
  }
  const statement = (real: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(real, {
      get: (target, property) => {
        const value = Reflect.get(target, property)
        if (typeof value !== 'function') return value
        if (property === 'bind') return (...values: unknown[]) => statement(target.bind(...values))
        if (['all', 'raw', 'first', 'run'].includes(String(property))) {
          return async (...args: unknown[]) =>
            add(await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args))
        }
        return value.bind(target)
      },
    })
  return new Proxy(db, {
    get: (target, property) => {
      if (property === 'prepare') return (sql: string) => statement(target.prepare(sql))
      if (property === 'batch') {
        return async (statements: D1PreparedStatement[]) => add(await target.batch(statements))
      }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('issue #14 rows, through the Worker handlers (Workers Free unless named)', () => {
  it('a To: header of 50,000 addresses is stored within D1 row size', async () => {
    const invocation = new Invocation('free')
    const to = Array.from({ length: 50_000 }, (_, i) => `${i}@w.t`).join(',')
    const raw = text(['From: a@example.org', `To: ${to}`, 'Subject: wide'], 'hi')
    const response = await invoke(...ingestRequest(raw, ['one@wide.test']), invocation.env())
    invocation.assertWithinLimits()
    expect(response.status).toBe(200)
    expect(invocation.largestBoundValue).toBeLessThanOrEqual(D1.valueOrRowBytes)
    const list = await json(`/api/addresses/one@wide.test/messages`)
    expect(list).toHaveLength(1)
  })

  it('a message with 1,500 attachments to 50 recipients is refused permanently (413)', async () => {
    const invocation = new Invocation('free')
    const response = await invoke(
      ...ingestRequest(withAttachments(1500), recipients(50, 'att.test')),
      invocation.env(),
    )
    invocation.assertWithinLimits()
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ error: 'Payload Too Large' })
    expect(await json('/api/addresses/r0@att.test/messages')).toEqual([])
  })

  it('the fullest bridge batch (50 messages x 100 recipients) is stored on Workers Free', async () => {
    const invocation = new Invocation('free')
    const items = Array.from({ length: 50 }, (_, i) => ({
      raw: text(['From: a@example.org', 'To: x@bb.test', `Subject: m${i}`], 'hi'),
      to: recipients(100, 'bb.test'),
    }))
    const response = await invoke(...batchRequest(items), invocation.env())
    invocation.assertWithinLimits()
    expect(response.status).toBe(200)
    const { results } = await response.json<{ results: { messages?: unknown[] }[] }>()
    expect(results.map((result) => result.messages?.length)).toEqual(items.map(() => 100))
    expect(invocation.d1Queries).toBeLessThanOrEqual(D1.queriesPerInvocation.free)
    expect(invocation.largestBatch).toBeLessThanOrEqual(D1.statementsPerBatch)
  }, 60_000)

  it('the headers of a delivery to 100 inboxes are written once, not once per recipient', async () => {
    const invocation = new Invocation('free')
    const wide = `X-Wide: ${'w'.repeat(400_000)}`
    const raw = text(['From: a@example.org', 'To: x@once.test', 'Subject: once', wide], 'hi')
    const response = await invoke(
      ...ingestRequest(raw, recipients(100, 'once.test')),
      invocation.env(),
    )
    invocation.assertWithinLimits()
    expect(response.status).toBe(200)
    // About 400 KB bound once; copied into 100 rows it is 40 MB of D1 writes.
    expect(invocation.boundBytes).toBeLessThan(1_000_000)
  })

  it('an inbox list of limit=1000 reads only the columns it answers with', async () => {
    const inbox = 'wide-list@cols.test'
    const wide = `X-Wide: ${'w'.repeat(200_000)}`
    for (let i = 0; i < 3; i++) {
      const raw = text(['From: a@example.org', `To: ${inbox}`, `Subject: s${i}`, wide], 'hi')
      expect((await invoke(...ingestRequest(raw, [inbox]), env)).status).toBe(200)
    }
    const read = { bytes: 0 }
    const bindings = { ...env, DB: countingResults(env.DB, read) }
    const response = await invoke(`/api/addresses/${inbox}/messages?limit=1000`, {}, bindings)
    expect(response.status).toBe(200)
    expect(await response.json()).toHaveLength(3)
    // Three messages of 200 KB headers each: reading `headers` would be over 600 KB.
    expect(read.bytes).toBeLessThan(50_000)
  })

  it('the deliveries consumer holds at most 6 connections for a batch of 25 webhooks (Paid)', async () => {
    const owner = await createAccount({ privateAddressCredits: 25 })
    const addresses = Array.from({ length: 25 }, (_, i) => `hook${i}@conn.test`)
    for (const [i, address] of addresses.entries()) {
      await reserve(address, owner.apiKey)
      await json(`/api/addresses/${address}`, {
        method: 'PUT',
        headers: { ...owner.headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ webhook: `https://receiver.example.com/${i}` }),
      })
    }
    const jobs: unknown[] = []
    const recording = {
      send: async (body: unknown) => void jobs.push(body),
      sendBatch: async (messages: Iterable<MessageSendRequest>) => {
        for (const m of messages) jobs.push(m.body)
      },
    } as unknown as Queue
    const raw = text(['From: a@example.org', 'To: hook0@conn.test', 'Subject: hooks'], 'hi')
    const stored = await invoke(...ingestRequest(raw, addresses), { ...env, DELIVERIES: recording })
    expect(stored.status).toBe(200)
    expect(jobs).toHaveLength(25)

    const invocation = new Invocation('paid')
    const receiver = async () => {
      await scheduler.wait(5)
      return new Response('ok')
    }
    vi.spyOn(globalThis, 'fetch').mockImplementation(invocation.fetch(receiver))
    const batch = createMessageBatch('mailsac-edge-deliveries', [
      ...jobs.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    ])
    const ctx = createExecutionContext()
    // The runtime passes a context to every handler; this one's signature takes two arguments.
    const queue = worker.queue as (batch: unknown, env: Env, ctx: ExecutionContext) => Promise<void>
    await queue(batch, invocation.env(), ctx)
    await waitOnExecutionContext(ctx)
    invocation.assertWithinLimits()
    expect(invocation.subrequests).toBeGreaterThanOrEqual(25)
    expect(invocation.peakConnections).toBeLessThanOrEqual(WORKERS.simultaneousConnections)
  }, 60_000)

  it('a hub with a websocket open schedules no alarm (an idle connection costs nothing)', async () => {
    const response = await call('/incoming-messages?addresses=idle@alarm.test', {
      headers: { Upgrade: 'websocket' },
    })
    expect(response.status).toBe(101)
    const socket = response.webSocket!
    const first = new Promise((resolve) => socket.addEventListener('message', resolve))
    socket.accept()
    await first
    const hub = env.REALTIME.get(env.REALTIME.idFromName('inbox:idle@alarm.test'))
    expect(await runInDurableObject(hub, (_instance, state) => state.storage.getAlarm())).toBeNull()
    socket.close(1000)
  })
})
