import { Hono, type Context } from 'hono'
import { sessionFromCookie, keyRequired, KEY_REQUIRED } from '../../http/auth'
import type { Account } from '../../db/queries/accounts'
import { database } from '../../db/client'
import { SUBSCRIPTION_HEADER } from '../../durable/realtime-hub'
import { fail, statusText } from '../../http/errors'
import { resolveSubscription } from '../../mail/fanout/subscriptions'
import type { AppEnv } from '../../env'
import { describe } from '../../http/openapi/describe'

/**
 * `GET /incoming-messages?_id=&key=&addresses=`: Mailsac's websocket endpoint, on the
 * Worker's own host. The request is checked here and the socket handed to the RealtimeHub
 * Durable Object of its shard, which holds it with the hibernation API.
 */
export const realtimeRoutes = new Hono<AppEnv>()

/**
 * Answers the upgrade with a socket that carries one `{status, error, message}` frame and
 * closes with code 4000 + status (4400, 4401, 4403). A refusal over a websocket, rather than
 * an HTTP error, is what websocket clients can read: browsers hide the status of a failed
 * handshake from scripts.
 */
function refuseSocket(status: 400 | 401 | 403, message: string): Response {
  const { 0: client, 1: server } = new WebSocketPair()
  server.accept()
  server.send(JSON.stringify({ status, error: statusText(status), message }))
  server.close(4000 + status, statusText(status))
  return new Response(null, { status: 101, webSocket: client })
}

/**
 * The account of the web session cookie, for `?session=1` sockets. Browsers send cookies with
 * a websocket handshake from any site, and SameSite=Lax does not cover it everywhere, so the
 * handshake must also come from one of our own pages (its Origin is this Worker's).
 */
async function sessionAccount(c: Context<AppEnv>): Promise<Account | null> {
  const origin = c.req.header('origin')
  if (origin !== new URL(c.req.url).origin) return null
  return (await sessionFromCookie(c))?.account ?? null
}

realtimeRoutes.get(
  '/',
  describe({
    tag: 'Websocket',
    access: 'none',
    summary: 'Subscribe to incoming mail (websocket)',
    description: `A websocket: connect with \`Upgrade: websocket\`. Each new message to a subscribed address arrives as a frame \`{ "status": 200, "email": <FullMessage> }\`. A refused subscription is one frame \`{ "status", "error", "message" }\`, then a close with code 4000 + status (4400, 4401, 4403): private addresses need their owner's key.`,
    parameters: [
      {
        in: 'query',
        name: 'addresses',
        required: true,
        description: 'Comma-separated addresses to follow',
        schema: { type: 'string' },
        example: 'someone@example.com',
      },
      {
        in: 'query',
        name: 'key',
        description: 'The API key (or the Mailsac-Key header)',
        schema: { type: 'string' },
      },
      {
        in: 'query',
        name: 'session',
        description:
          'Not a Mailsac parameter: `1` authenticates with the web session cookie instead of a key (the inbox page), from this site only',
        schema: { type: 'string', enum: ['1'] },
      },
      {
        in: 'query',
        name: '_id',
        description: 'The username (as Mailsac documents it)',
        schema: { type: 'string' },
      },
    ],
    responses: { 101: { description: 'Switching Protocols: the websocket is open' } },
    failures: {
      426: 'This is a websocket endpoint: connect with a websocket client (Upgrade: websocket).',
    },
  }),
  async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      fail(
        426,
        'This is a websocket endpoint: connect with a websocket client (Upgrade: websocket).',
      )
    }
    const apiKey = c.req.query('key') ?? c.req.header('mailsac-key') ?? null
    if (keyRequired(c.env) && !apiKey && c.req.query('session') !== '1') {
      return refuseSocket(401, KEY_REQUIRED)
    }
    const decision = await resolveSubscription(database(c.env.DB), {
      username: c.req.query('_id') ?? null,
      // `key` as Mailsac documents it; the Mailsac-Key header for clients that can set one.
      apiKey,
      addresses: c.req.query('addresses') ?? null,
      ...(c.req.query('session') === '1' ? { sessionAccount: await sessionAccount(c) } : {}),
    })
    if (!decision.ok) return refuseSocket(decision.status, decision.message)
    const hub = c.env.REALTIME.get(c.env.REALTIME.idFromName(decision.shard))
    const headers = new Headers(c.req.raw.headers)
    headers.set(SUBSCRIPTION_HEADER, JSON.stringify(decision.subscription))
    return hub.fetch(new Request(c.req.raw, { headers }))
  },
)
