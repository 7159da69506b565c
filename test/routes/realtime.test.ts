import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { database } from '../../src/db/client'
import { findMessage } from '../../src/db/queries/messages'
import { RealtimeHub } from '../../src/durable/realtime-hub'
import { MAX_WS_FRAME_BYTES } from '../../src/limits'
import { ADMIN, call, createAccount, ingest, json, reserve, simpleMessage } from '../requests'

type Frame = { status: number; msg?: string; message?: string; email?: any; truncated?: boolean }

/** Polls until `check` holds (frames arrive asynchronously); fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 3000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Opens a websocket on /incoming-messages through the Worker's fetch handler. */
async function connect(query: Record<string, string>) {
  const response = await call(`/incoming-messages?${new URLSearchParams(query)}`, {
    headers: { Upgrade: 'websocket' },
  })
  expect(response.status).toBe(101)
  const socket = response.webSocket as WebSocket
  const frames: Frame[] = []
  const state: { closed: { code: number; reason: string } | null } = { closed: null }
  socket.addEventListener('message', (event) => {
    frames.push(JSON.parse(event.data as string))
  })
  socket.addEventListener('close', (event) => {
    state.closed = { code: event.code, reason: event.reason }
  })
  socket.accept()
  const emails = () => frames.filter((frame) => frame.email)
  return { socket, frames, emails, state }
}

async function listening(query: Record<string, string>) {
  const client = await connect(query)
  await until(() => client.frames.length > 0, 'the first frame')
  expect(client.frames[0]).toMatchObject({ status: 200, msg: 'Listening' })
  return client
}

async function enableWs(email: string, headers: Record<string, string>) {
  await json(`/api/addresses/${email}`, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ enablews: true }),
  })
}

/**
 * Ingests through the HTTP API. Ingest announces the mail before it answers, so by the time
 * this resolves every hub has sent its frames.
 */
async function deliver(to: string, fields: Parameters<typeof simpleMessage>[0] = {}) {
  const stored = await ingest(simpleMessage({ to, ...fields }), [to])
  return { stored }
}

describe('GET /incoming-messages (private feed)', () => {
  it('sends the full message to the owner of an enablews address and nothing to another account', async () => {
    const alice = await createAccount()
    const bob = await createAccount()
    await reserve('live@rt.test', alice.apiKey)
    await reserve('bobs@rt.test', bob.apiKey)
    await enableWs('live@rt.test', alice.headers)
    await enableWs('bobs@rt.test', bob.headers)
    const aliceSocket = await listening({
      _id: alice.id,
      key: alice.apiKey,
      addresses: 'live@rt.test',
    })
    const bobSocket = await listening({ _id: bob.id, key: bob.apiKey, addresses: 'bobs@rt.test' })
    expect(aliceSocket.frames[0]).toEqual({
      status: 200,
      msg: 'Listening',
      addresses: ['live@rt.test'],
      domains: [],
    })

    const { stored } = await deliver('live@rt.test', {
      subject: 'Live one',
      body: 'Yoooo',
    })
    await until(() => aliceSocket.emails().length === 1, "alice's frame")
    const [frame] = aliceSocket.emails()
    // The frame's email is exactly the REST message object (one builder for both).
    const rest = await json(`/api/addresses/live@rt.test/messages/${stored[0]._id}`, {
      headers: alice.headers,
    })
    expect(frame).toEqual({ status: 200, email: rest })
    expect(frame.email).toMatchObject({
      subject: 'Live one',
      text: expect.stringContaining('Yoooo'),
    })
    expect(frame.email.raw).toContain('Subject: Live one')
    expect(frame.email.headers.subject).toBe('Live one')
    // Ingest answered after the hubs sent their frames: bob's hub got nothing to send.
    expect(aliceSocket.emails()).toHaveLength(1)
    expect(bobSocket.frames).toHaveLength(1)
  })

  it('delivers mail of every address of a subscribed owned domain', async () => {
    const owner = await createAccount()
    await json('/internal/admin/domains', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ domain: 'rt-owned.test', account: owner.id }),
    })
    const client = await listening({ key: owner.apiKey, addresses: 'rt-owned.test' })
    await deliver('anything@rt-owned.test')
    await until(() => client.emails().length === 1, 'the domain frame')
    expect(client.emails()[0].email.inbox).toBe('anything@rt-owned.test')
  })

  it('refuses a bad key with a 401 frame and closes', async () => {
    const client = await connect({ _id: 'nobody', key: 'Z'.repeat(64), addresses: 'a@rt.test' })
    await until(() => client.state.closed !== null, 'the close')
    expect(client.frames).toEqual([
      { status: 401, error: 'Unauthorized', message: 'The API key is not valid.' },
    ])
    expect(client.state.closed?.code).toBe(4401)
  })

  it('refuses a key with another _id, a foreign address and an address with enablews off', async () => {
    const alice = await createAccount()
    const bob = await createAccount()
    await reserve('alices@rt.test', alice.apiKey)
    await reserve('quiet@rt.test', alice.apiKey)
    await enableWs('alices@rt.test', alice.headers)
    for (const [query, status] of [
      [{ _id: bob.id, key: alice.apiKey, addresses: 'alices@rt.test' }, 401],
      [{ key: bob.apiKey, addresses: 'alices@rt.test' }, 403],
      [{ key: bob.apiKey, addresses: 'public-one@rt.test' }, 403],
      [{ key: alice.apiKey, addresses: 'alices@rt.test,quiet@rt.test' }, 403],
      [{ key: alice.apiKey, addresses: '' }, 400],
    ] as const) {
      const client = await connect(query)
      await until(() => client.state.closed !== null, `the close of ${JSON.stringify(query)}`)
      expect(client.frames).toHaveLength(1)
      expect(client.frames[0].status).toBe(status)
      expect(client.state.closed?.code).toBe(4000 + status)
    }
  })

  it('answers a plain GET with 426', async () => {
    const response = await call('/incoming-messages?addresses=a@rt.test')
    expect(response.status).toBe(426)
    expect(await response.json()).toMatchObject({ error: 'Upgrade Required' })
  })

  it('sends metadata only, marked truncated, for mail above the frame cap', async () => {
    const owner = await createAccount()
    await reserve('big@rt.test', owner.apiKey)
    await enableWs('big@rt.test', owner.headers)
    const client = await listening({ key: owner.apiKey, addresses: 'big@rt.test' })
    await deliver('big@rt.test', { body: 'x'.repeat(MAX_WS_FRAME_BYTES + 1024) })
    await until(() => client.emails().length === 1, 'the truncated frame')
    const [frame] = client.emails()
    expect(frame.truncated).toBe(true)
    expect(frame.email).toMatchObject({ inbox: 'big@rt.test', subject: 'Hello' })
    expect(frame.email).not.toHaveProperty('raw')
    expect(frame.email.headers.subject).toBe('Hello')
  })
})

describe('GET /incoming-messages (public feed)', () => {
  it('streams a public inbox without a key', async () => {
    const client = await listening({ addresses: 'watch-me@rt.test' })
    const { stored } = await deliver('watch-me@rt.test', { subject: 'For all' })
    await until(() => client.emails().length === 1, 'the public frame')
    expect(client.emails()[0].email).toMatchObject({ _id: stored[0]._id, subject: 'For all' })
  })

  it('never shows mail of an address that became private after subscribing', async () => {
    const client = await listening({ addresses: 'soon-private@rt.test' })
    const owner = await createAccount()
    await reserve('soon-private@rt.test', owner.apiKey)
    await enableWs('soon-private@rt.test', owner.headers)
    const ownerSocket = await listening({ key: owner.apiKey, addresses: 'soon-private@rt.test' })
    await deliver('soon-private@rt.test', { subject: 'Secret' })
    await until(() => ownerSocket.emails().length === 1, "the owner's frame")
    expect(client.emails()).toEqual([])
  })

  it('refuses a private address, several inboxes and _id without a key', async () => {
    const owner = await createAccount()
    await reserve('mine@rt.test', owner.apiKey)
    for (const [query, status] of [
      [{ addresses: 'mine@rt.test' }, 403],
      [{ addresses: 'a@rt.test,b@rt.test' }, 400],
      [{ addresses: 'rt.test' }, 400],
      [{ _id: owner.id, addresses: 'x@rt.test' }, 401],
    ] as const) {
      const client = await connect(query)
      await until(() => client.state.closed !== null, `the close of ${JSON.stringify(query)}`)
      expect(client.frames.map((frame) => frame.status)).toEqual([status])
    }
  })
})

describe('RealtimeHub', () => {
  it('still broadcasts from a fresh instance rebuilt from its hibernated sockets', async () => {
    const owner = await createAccount()
    await reserve('sleepy@rt.test', owner.apiKey)
    await enableWs('sleepy@rt.test', owner.headers)
    const client = await listening({ key: owner.apiKey, addresses: 'sleepy@rt.test' })
    const [stored] = await ingest(simpleMessage({ subject: 'After a nap' }), ['sleepy@rt.test'])
    // Ingest itself announces the mail; the woken hub below must deliver it a second time.
    await until(() => client.emails().length === 1, 'the frame from ingest')
    const [row] = await findMessage(database(env.DB), 'sleepy@rt.test', stored._id)
    const stub = env.REALTIME.get(env.REALTIME.idFromName(`account:${owner.id}`))
    const sent = await runInDurableObject(stub, async (_instance, state) => {
      // What the runtime does after hibernation: a new instance over the same sockets, its
      // sessions known only from ctx.getWebSockets() and their attachments.
      const woken = new RealtimeHub(state, env)
      expect(await woken.connections()).toBe(1)
      return woken.publish([row])
    })
    expect(sent).toBe(1)
    await until(() => client.emails().length === 2, 'the frame from the woken hub')
    expect(client.emails()[1].email).toMatchObject({ _id: stored._id, subject: 'After a nap' })
  })

  it('#14.7 schedules no heartbeat alarm while a socket is open', async () => {
    const client = await listening({ addresses: 'heartbeat@rt.test' })
    const stub = env.REALTIME.get(env.REALTIME.idFromName('inbox:heartbeat@rt.test'))
    // An idle connection costs nothing: no alarm wakes the hub while the socket is open.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull()
    expect(await runDurableObjectAlarm(stub)).toBe(false)
    expect(client.frames).toHaveLength(1)
    expect(client.state.closed).toBeNull()
  })

  it('forgets closed sockets and keeps broadcasting to the others', async () => {
    const first = await listening({ addresses: 'crowd@rt.test' })
    const second = await listening({ addresses: 'crowd@rt.test' })
    first.socket.close(1000, 'bye')
    const stub = env.REALTIME.get(env.REALTIME.idFromName('inbox:crowd@rt.test'))
    await until(() => first.state.closed !== null, 'the close')
    await deliver('crowd@rt.test')
    await until(() => second.emails().length === 1, 'the frame to the remaining socket')
    expect(await stub.connections()).toBe(1)
  })
})
