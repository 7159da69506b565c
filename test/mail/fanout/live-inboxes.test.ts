import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { database } from '../../../src/db/client'
import { liveInboxes } from '../../../src/db/schema'
import { notifyStored } from '../../../src/mail/fanout/notify'
import { call, ingest, simpleMessage } from '../../requests'

// Ingest publishes public mail only to inboxes someone follows live (live_inboxes), so mail
// nobody watches costs no Durable Object request.

async function liveCount(inbox: string) {
  const [row] = await database(env.DB)
    .select()
    .from(liveInboxes)
    .where(eq(liveInboxes.inbox, inbox))
  return row?.sockets ?? 0
}

async function openSocket(inbox: string) {
  const response = await call(`/incoming-messages?addresses=${inbox}`, {
    headers: { Upgrade: 'websocket' },
  })
  const socket = response.webSocket as WebSocket
  const frames: { msg?: string }[] = []
  socket.addEventListener('message', (event) => frames.push(JSON.parse(event.data as string)))
  socket.accept()
  return { socket, frames }
}

/** The REALTIME namespace, counting which shards notify asks for. */
function countingRealtime() {
  const shards: string[] = []
  const namespace = new Proxy(env.REALTIME, {
    get(target, property) {
      if (property === 'idFromName') {
        return (name: string) => {
          shards.push(name)
          return target.idFromName(name)
        }
      }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { namespace, shards }
}

async function until(check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + 3000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('live inboxes', () => {
  it('are listed while a public socket is open, before it hears "Listening"', async () => {
    const inbox = 'watched@live.test'
    const { socket, frames } = await openSocket(inbox)
    await until(() => frames.length > 0)
    expect(frames[0].msg).toBe('Listening')
    expect(await liveCount(inbox)).toBe(1)
    const second = await openSocket(inbox)
    await until(() => second.frames.length > 0)
    expect(await liveCount(inbox)).toBe(2)
    socket.close()
    second.socket.close()
    await until(async () => (await liveCount(inbox)) === 0)
  })

  it('spare unwatched public inboxes a publish, and still publish to watched ones', async () => {
    const quiet = 'nobody-watches@live.test'
    const watched = 'someone-watches@live.test'
    const { frames } = await openSocket(watched)
    await until(() => frames.length > 0)
    const stored = [
      ...(await ingest(simpleMessage({ to: quiet }), [quiet])),
      ...(await ingest(simpleMessage({ to: watched }), [watched])),
    ]
    const { namespace, shards } = countingRealtime()
    const summary = await notifyStored({ ...env, REALTIME: namespace }, stored)
    expect(shards).toEqual([`inbox:${watched}`])
    expect(summary.frames).toBe(1)
  })
})
