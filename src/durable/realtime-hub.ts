import type { Subscription } from '../mail/fanout/subscriptions'
import { DurableObject } from 'cloudflare:workers'
import { database } from '../db/client'
import { recordLiveSockets } from '../db/queries/live-inboxes'
import type { MessageWithHeaders } from '../db/queries/messages'
import { MAX_WS_FRAME_BYTES } from '../limits'
import { fullMessageJson, headersObject, messageJson } from '../mail/message-json'

/**
 * What one websocket listens to, kept in its hibernation attachment. `account` is null on
 * the public feed. The Worker route decided all of it (key, ownership, enablews) before the
 * socket reached the hub: the hub only matches messages against it.
 */
type Waiter = {
  inbox: string
  isPublic: boolean
  deadline: number
  wake: (message: MessageWithHeaders) => void
  arrival: (until: number) => Promise<MessageWithHeaders[] | null>
}

/**
 * What a held wait hears: the messages published for its inbox since it last asked, `reread`
 * when this object no longer knows the waiter (it restarted: mail may have been missed), or
 * null at the deadline.
 */
export type WaitArrival = { messages: MessageWithHeaders[] } | { reread: true } | null

/** How long past its deadline a waiter that was never released is kept. */
const WAIT_RELEASE_GRACE_MS = 10_000

/** The header the Worker route uses to hand the checked subscription to the hub. */
export const SUBSCRIPTION_HEADER = 'X-Realtime-Subscription'

/**
 * Fans stored mail out to websocket subscribers. One instance per shard:
 * `account:<id>` for an account's private addresses and domains, `inbox:<address>` for
 * the public feed of one inbox (see src/mail/fanout/subscriptions.ts for why).
 *
 * Uses the hibernation API (the workers-chat-demo pattern): sockets are accepted with
 * `ctx.acceptWebSocket`, each carries its subscription as a serialized attachment, and the
 * session map is rebuilt from `ctx.getWebSockets()` whenever the object wakes up, so an idle
 * hub costs nothing while its sockets stay open. Client pings are answered by the runtime
 * without waking the object (`setWebSocketAutoResponse`), and there is no server heartbeat
 * alarm: every alarm is a billed request, and one every 30 s per connected hub made an idle
 * connection cost money (#14.7). A client behind a proxy that drops idle sockets sends "ping".
 */
export class RealtimeHub extends DurableObject<Env> {
  private sessions = new Map<WebSocket, Subscription>()
  /**
   * Held wait requests (GET /api/addresses/:email/wait), by id. In memory only: a waiter
   * lives no longer than its request, which keeps this object awake meanwhile.
   */
  private waiters = new Map<string, Waiter>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    for (const socket of ctx.getWebSockets()) {
      const subscription = socket.deserializeAttachment() as Subscription | null
      if (subscription) this.sessions.set(socket, subscription)
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'))
  }

  /** Accepts one websocket; only the Worker route calls this, after checking the request. */
  async fetch(request: Request): Promise<Response> {
    const header = request.headers.get(SUBSCRIPTION_HEADER)
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket' || !header) {
      return new Response('Expected a websocket upgrade from the Worker.', { status: 400 })
    }
    const subscription = JSON.parse(header) as Subscription
    const { 0: client, 1: server } = new WebSocketPair()
    if (subscription.account === null) {
      // Public feed: ingest publishes only to inboxes listed as watched, so the listing must
      // be in D1 before the client hears "Listening" and starts sending mail.
      try {
        await this.recordPublicSockets(subscription, this.publicSockets() + 1)
      } catch (error) {
        console.error(`realtime: recording a live inbox failed: ${(error as Error).message}`)
        server.accept()
        server.send(
          JSON.stringify({ status: 503, error: 'Service Unavailable', message: 'Try again.' }),
        )
        server.close(4503, 'Service Unavailable')
        return new Response(null, { status: 101, webSocket: client })
      }
    }
    this.ctx.acceptWebSocket(server)
    server.serializeAttachment(subscription)
    this.sessions.set(server, subscription)
    // The OpenAPI document's first frame, so a client knows what it is listening to.
    server.send(
      JSON.stringify({
        status: 200,
        msg: 'Listening',
        addresses: subscription.addresses,
        domains: subscription.domains,
      }),
    )
    return new Response(null, { status: 101, webSocket: client })
  }

  /**
   * Sends each message to the sockets subscribed to its inbox or domain; returns how many
   * frames went out. The caller (notifyStored) already decided that every message belongs
   * on this shard, from the message's privacy at publish time. A frame is built only for a
   * message someone listens to, so mail nobody watches costs no R2 read. Messages named in
   * `webOnly` (private addresses with `enablews` off) go to the owner's web pages only.
   */
  async publish(messages: MessageWithHeaders[], webOnly: string[] = []): Promise<number> {
    let sent = 0
    for (const message of messages) {
      // A waiter gets the row itself (#17 wait latency): it filters in memory and checks it
      // with the privacy rule, instead of a hundred waiters each reading D1 at once. This shard
      // is the message's audience (notify's audienceOf), so only mail its waiters may see is here.
      for (const waiter of this.waiters.values()) {
        if (waiter.inbox === message.inbox) waiter.wake(message)
      }
      const pagesOnly = webOnly.includes(message.id)
      const listeners = [...this.sessions].filter(
        ([, subscription]) =>
          (subscription.addresses.includes(message.inbox) ||
            subscription.domains.includes(message.domain)) &&
          (!pagesOnly || subscription.web === true),
      )
      if (listeners.length === 0) continue
      const frame = await this.frame(message)
      for (const [socket] of listeners) if (this.send(socket, frame)) sent++
    }
    return sent
  }

  /**
   * Registers a wait on `inbox` until `deadline` (ms epoch). For a public inbox it resolves
   * only once the inbox is listed in live_inboxes, so ingest publishes here from then on: the
   * caller reads D1 after this resolves, and mail stored in between is then either in that
   * read or announced to the waiter (no gap).
   */
  async registerWaiter(id: string, inbox: string, isPublic: boolean, deadline: number) {
    this.expireWaiters()
    let arrived: MessageWithHeaders[] = []
    let resolve: ((messages: MessageWithHeaders[] | null) => void) | null = null
    const waiter: Waiter = {
      inbox,
      isPublic,
      deadline,
      wake: (message) => {
        arrived.push(message)
        resolve?.(arrived)
      },
      arrival: (until) => {
        let timer: ReturnType<typeof setTimeout> | null = null
        return new Promise<MessageWithHeaders[] | null>((done) => {
          if (arrived.length) return done(arrived)
          resolve = done
          timer = setTimeout(() => done(null), Math.max(0, until - Date.now()))
        }).finally(() => {
          // A pending timer would keep the hub from hibernating after the wait ended.
          if (timer !== null) clearTimeout(timer)
          arrived = []
          resolve = null
        })
      },
    }
    this.waiters.set(id, waiter)
    if (isPublic) await this.recordPublicInbox(inbox)
  }

  /**
   * Resolves with the messages published for the waiter's inbox since registration or the
   * last arrival, null at `until`. An unknown waiter (this object restarted) answers
   * `reread`, so the caller reads D1 once more instead of missing mail.
   */
  async awaitArrival(id: string, until: number): Promise<WaitArrival> {
    const waiter = this.waiters.get(id)
    if (!waiter) return { reread: true }
    const messages = await waiter.arrival(Math.min(until, waiter.deadline))
    return messages ? { messages } : null
  }

  async releaseWaiter(id: string): Promise<void> {
    const waiter = this.waiters.get(id)
    this.waiters.delete(id)
    if (waiter?.isPublic) await this.recordPublicInbox(waiter.inbox)
  }

  /** How many waits are held (tests, diagnostics). */
  async waiting(): Promise<number> {
    return this.waiters.size
  }

  /** How many sockets are open (tests, diagnostics). */
  async connections(): Promise<number> {
    return this.sessions.size
  }

  async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // The feed is one-way; "ping" is answered by the auto-response without waking the hub.
    // Anything else gets a 400 frame rather than silence, so a confused client notices.
    if (message !== 'ping') {
      this.send(
        socket,
        JSON.stringify({
          status: 400,
          message: 'This socket only sends; send "ping" to check it.',
        }),
      )
    }
  }

  async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.drop(socket, code, reason)
  }

  async webSocketError(socket: WebSocket): Promise<void> {
    this.drop(socket, 1011, 'WebSocket error')
  }

  private async frame(message: MessageWithHeaders): Promise<string> {
    // Skip the R2 reads when the raw alone would not fit.
    if (message.size <= MAX_WS_FRAME_BYTES) {
      const full = JSON.stringify({
        status: 200,
        email: await fullMessageJson(this.env.MAIL, message),
      })
      if (new TextEncoder().encode(full).byteLength <= MAX_WS_FRAME_BYTES) return full
    }
    return JSON.stringify({
      status: 200,
      email: { ...messageJson(message), headers: headersObject(message.headers) },
      truncated: true,
    })
  }

  /** Sends one frame; a socket that cannot take it is dropped, and the broadcast goes on. */
  private send(socket: WebSocket, frame: string): boolean {
    try {
      socket.send(frame)
      return true
    } catch {
      this.drop(socket, 1011, 'Send failed')
      return false
    }
  }

  /**
   * Public followers held here, sockets and waiters: a public hub serves one inbox
   * (src/mail/fanout/subscriptions.ts), and both need ingest to publish to it.
   */
  private publicSockets(): number {
    const sockets = [...this.sessions.values()].filter(
      (subscription) => subscription.account === null,
    ).length
    return sockets + [...this.waiters.values()].filter((waiter) => waiter.isPublic).length
  }

  private async recordPublicInbox(inbox: string) {
    await recordLiveSockets(database(this.env.DB), inbox, this.publicSockets())
  }

  /** Waiters whose request died before releasing them (they would keep the inbox listed). */
  private expireWaiters() {
    const now = Date.now()
    for (const [id, waiter] of this.waiters) {
      if (waiter.deadline + WAIT_RELEASE_GRACE_MS < now) this.waiters.delete(id)
    }
  }

  private async recordPublicSockets(subscription: Subscription, sockets: number) {
    const [inbox] = subscription.addresses
    await recordLiveSockets(database(this.env.DB), inbox, sockets)
  }

  private drop(socket: WebSocket, code: number, reason: string) {
    const subscription = this.sessions.get(socket)
    this.sessions.delete(socket)
    if (subscription?.account === null) {
      // A count left too high only costs ingest an unneeded publish, never a lost frame.
      this.ctx.waitUntil(
        this.recordPublicSockets(subscription, this.publicSockets()).catch((error) =>
          console.error(`realtime: recording a closed socket failed: ${(error as Error).message}`),
        ),
      )
    }
    try {
      // Completes the closing handshake; throws if the socket is already closed.
      socket.close(code === 1000 || (code >= 3000 && code < 5000) ? code : 1000, reason)
    } catch {
      // Already closed: nothing to do.
    }
  }
}
