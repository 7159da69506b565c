// Issue #16 item 9: with REQUIRE_API_KEY every /api route and the websocket need a key.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../src/app'
import { createAccount, ingest, simpleMessage } from '../requests'

const strict = { ...env, REQUIRE_API_KEY: 'true' }
async function fetchStrict(path: string, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext()
  const response = await app.fetch(new Request(`http://mail.test${path}`, { headers }), strict, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

describe('REQUIRE_API_KEY', () => {
  it('refuses keyless /api requests with 401 and serves keyed ones', async () => {
    await ingest(simpleMessage({ to: 'open@keyed.example' }), ['open@keyed.example'])
    const account = await createAccount()
    for (const path of [
      '/api/addresses/open@keyed.example/messages',
      '/api/addresses/open@keyed.example/message-count',
      '/api/mailstats/top-addresses',
      '/api/limits',
      '/api/me',
    ]) {
      const keyless = await fetchStrict(path)
      expect(keyless.status, path).toBe(401)
      expect(await keyless.json()).toMatchObject({
        message: expect.stringMatching(/requires an API key/),
      })
      expect((await fetchStrict(path, account.headers)).status, path).toBe(200)
    }
    // Off (the default), the same public inbox answers without a key.
    const open = await app.fetch(
      new Request('http://mail.test/api/addresses/open@keyed.example/messages'),
      env,
    )
    expect(open.status).toBe(200)
  })

  it('keeps the API reference open, so a client can learn how to get a key', async () => {
    expect((await fetchStrict('/api/openapi.json')).status).toBe(200)
  })

  it('refuses a keyless websocket with a 401 frame', async () => {
    const response = await fetchStrict('/incoming-messages?addresses=open@keyed.example', {
      Upgrade: 'websocket',
    })
    expect(response.status).toBe(101)
    const socket = response.webSocket as WebSocket
    const frames: unknown[] = []
    socket.addEventListener('message', (event) => frames.push(JSON.parse(event.data as string)))
    socket.accept()
    for (let i = 0; i < 50 && frames.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(frames[0]).toMatchObject({ status: 401, message: expect.stringMatching(/API key/) })
  })
})
