// #17 wait latency: the hub hands each held wait the rows published for its inbox, so the wait
// filters in memory instead of every waiter reading D1 on every arrival.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { database } from '../../src/db/client'
import { findMessage, type MessageWithHeaders } from '../../src/db/queries/messages'
import { ingest, simpleMessage } from '../requests'

const hubFor = (name: string) => env.REALTIME.get(env.REALTIME.idFromName(name))

async function storedRow(inbox: string): Promise<MessageWithHeaders> {
  const [stored] = await ingest(simpleMessage({ to: inbox }), [inbox])
  const [row] = await findMessage(database(env.DB), inbox, stored._id)
  return row as MessageWithHeaders
}

describe('RealtimeHub waiters', () => {
  it('hands a waiter the rows published for its inbox, and none for another inbox', async () => {
    const inbox = 'hub-rows@example.com'
    const hub = hubFor('test:hub-rows')
    const deadline = Date.now() + 5_000
    await hub.registerWaiter('w1', inbox, false, deadline)
    const other = await storedRow('hub-other@example.com')
    const mine = await storedRow(inbox)
    await hub.publish([other, mine])
    const arrival = await hub.awaitArrival('w1', deadline)
    expect(arrival && 'messages' in arrival ? arrival.messages.map((m) => m.id) : []).toEqual([
      mine.id,
    ])
    await hub.releaseWaiter('w1')
  })

  it('keeps rows published while nobody was awaiting, and answers null at the deadline', async () => {
    const inbox = 'hub-queue@example.com'
    const hub = hubFor('test:hub-queue')
    await hub.registerWaiter('w2', inbox, false, Date.now() + 5_000)
    const first = await storedRow(inbox)
    const second = await storedRow(inbox)
    await hub.publish([first])
    await hub.publish([second])
    const arrival = await hub.awaitArrival('w2', Date.now() + 5_000)
    expect(arrival && 'messages' in arrival ? arrival.messages.map((m) => m.id) : []).toEqual([
      first.id,
      second.id,
    ])
    expect(await hub.awaitArrival('w2', Date.now() + 50)).toBeNull()
    await hub.releaseWaiter('w2')
  })

  it('asks an unknown waiter (the hub restarted) to read D1 again', async () => {
    expect(await hubFor('test:hub-unknown').awaitArrival('nobody', Date.now() + 50)).toEqual({
      reread: true,
    })
  })
})
