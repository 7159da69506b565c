import net from 'node:net'
import tls from 'node:tls'
import { SHUTDOWN_GRACE_MS } from '../limits.js'
import { WorkerResponseError } from '../worker-client.js'
import { Pop3Connection } from './connection.js'
import { loadMailbox, MailStoreError } from './mailbox.js'

/** @typedef {import('../config.js').BridgeConfig} BridgeConfig */
/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../log.js').Logger} Logger */
/** @typedef {import('./mailbox.js').MailStore} MailStore */
/** @typedef {import('./mailbox.js').MailboxMessage} MailboxMessage */

/** Deletes at QUIT go to the Worker a few at a time: faster than one by one, gentle on D1. */
const UPDATE_CONCURRENCY = 8

/**
 * POP3 listeners: plaintext with STLS, and implicit TLS (RFC 8314) when a certificate is set.
 * Both share one set of sessions, so shutdown and the inbox locks see every client.
 *
 * @param {{ config: BridgeConfig, worker: WorkerClient, log: Logger }} deps
 */
export function createPop3Server({ config, worker, log }) {
  const secureContext = config.tls
    ? tls.createSecureContext({ cert: config.tls.cert, key: config.tls.key })
    : null
  /** @type {Set<Pop3Connection>} */
  const connections = new Set()
  const store = createWorkerMailStore({ worker, log, publicLogin: config.pop3PublicLogin })
  let closing = false

  /** @param {net.Socket} socket @param {boolean} secure */
  function accept(socket, secure) {
    if (closing) {
      socket.destroy()
      return
    }
    const connection = new Pop3Connection(socket, {
      store,
      log,
      secureContext,
      secure,
      serverName: config.serverName,
      cleartextLogin: config.cleartextLogin,
      loginFailureDelayMs: config.loginFailureDelayMs,
      loginTimeoutMs: config.pop3LoginTimeoutMs,
    })
    connections.add(connection)
    void connection.done.then(() => connections.delete(connection))
    connection.start()
  }

  const plainServer = net.createServer((socket) => accept(socket, false))
  plainServer.on('error', (err) => log.error('pop3 error', { err }))

  const tlsServer = config.tls
    ? tls.createServer({ cert: config.tls.cert, key: config.tls.key }, (socket) =>
        accept(socket, true),
      )
    : null
  // A client that fails the handshake is its own problem; without a listener it would be
  // reported as a server error.
  tlsServer?.on('tlsClientError', (err) => log.debug('pop3s handshake failed', { err }))
  tlsServer?.on('error', (err) => log.error('pop3s error', { err }))

  return {
    /**
     * @param {{ port: number, tlsPort: number | null, host: string }} options
     * @returns {Promise<{ port: number, tlsPort: number | null }>} the bound ports
     */
    async listen({ port, tlsPort, host }) {
      const boundPort = await listen(plainServer, port, host)
      const boundTlsPort =
        tlsServer && tlsPort !== null ? await listen(tlsServer, tlsPort, host) : null
      return { port: boundPort, tlsPort: boundTlsPort }
    },

    /**
     * Stops accepting, lets sessions finish for up to the grace period (a session in
     * TRANSACTION may still QUIT and have its deletes applied), then cuts the rest.
     * @returns {Promise<void>}
     */
    async close() {
      closing = true
      const stopped = Promise.all([plainServer, tlsServer].map((server) => stopListening(server)))
      for (const connection of connections) connection.shutdown()
      const drained = Promise.all([...connections].map((connection) => connection.done))
      /** @type {NodeJS.Timeout | undefined} */
      let timer
      const deadline = new Promise((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)
        timer.unref()
      })
      await Promise.race([drained, deadline])
      clearTimeout(timer)
      if (connections.size) log.info('pop3 closing sessions left', { count: connections.size })
      for (const connection of connections) connection.destroy()
      await stopped
    },
  }
}

/** @param {net.Server} server @param {number} port @param {string} host @returns {Promise<number>} */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(/** @type {net.AddressInfo} */ (server.address()).port)
    })
  })
}

/** @param {net.Server | null} server @returns {Promise<void>} */
function stopListening(server) {
  if (!server?.listening) return Promise.resolve()
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * The POP3 sessions' storage, backed by the Worker's REST API: the same reads and deletes, with
 * the same access rules, as any other API client.
 * @param {{ worker: WorkerClient, log: Logger, publicLogin: boolean }} options
 * @returns {MailStore}
 */
export function createWorkerMailStore({ worker, log, publicLogin }) {
  /** Inboxes with a session in TRANSACTION, for RFC 1939's exclusive lock. */
  const locks = new Set()

  return {
    // A key that the Worker refuses may still open a public inbox when public login is
    // allowed, since public inboxes need no key over REST either.
    async open(inbox, password, clientIp) {
      // A value that can't be an HTTP header can't be a key either, and fetch would throw on it.
      const usableKey = /^[\x21-\x7e]+$/.test(password) ? password : null
      try {
        try {
          if (!usableKey) throw new WorkerResponseError(401, 'unauthorized', 'not an API key')
          const caller = { apiKey: usableKey, clientIp }
          return { inbox, caller, messages: await loadMailbox(worker, inbox, caller) }
        } catch (err) {
          if (!(err instanceof WorkerResponseError) || err.status !== 401 || !publicLogin) throw err
          const caller = { apiKey: null, clientIp }
          return { inbox, caller, messages: await loadMailbox(worker, inbox, caller) }
        }
      } catch (err) {
        // 429 is the Worker's rate limit: the credentials may be fine, so not [AUTH].
        if (err instanceof WorkerResponseError && err.status < 500 && err.status !== 429) {
          throw new MailStoreError('auth', err.message, err)
        }
        throw new MailStoreError('unavailable', 'mail store unavailable', err)
      }
    },

    async fetch(mailbox, message) {
      try {
        return await worker.fetchRaw(mailbox.inbox, message.id, mailbox.caller)
      } catch (err) {
        if (err instanceof WorkerResponseError && err.status === 404) {
          throw new MailStoreError('gone', 'message removed from the inbox', err)
        }
        throw new MailStoreError('unavailable', 'mail store unavailable', err)
      }
    },

    async remove(mailbox, messages) {
      let failed = 0
      for (let i = 0; i < messages.length; i += UPDATE_CONCURRENCY) {
        const batch = messages.slice(i, i + UPDATE_CONCURRENCY)
        const results = await Promise.allSettled(
          batch.map((message) => worker.deleteMessage(mailbox.inbox, message.id, mailbox.caller)),
        )
        for (const result of results) {
          if (result.status === 'fulfilled') continue
          const err = result.reason
          // Already gone (deleted over REST, or expired) is what QUIT wanted anyway.
          if (err instanceof WorkerResponseError && err.status === 404) continue
          failed++
          log.warn('pop3 delete failed', { inbox: mailbox.inbox, err })
        }
      }
      return failed
    },

    lock(inbox) {
      if (locks.has(inbox)) return false
      locks.add(inbox)
      return true
    },

    unlock(inbox) {
      locks.delete(inbox)
    },
  }
}
