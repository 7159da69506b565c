import net from 'node:net'
import tls from 'node:tls'
import { SHUTDOWN_GRACE_MS } from '../limits.js'
import { Pop3Connection } from './connection.js'

/** @typedef {import('../config.js').BridgeConfig} BridgeConfig */
/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../log.js').Logger} Logger */

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
  /** @type {Set<string>} */
  const locks = new Set()
  let closing = false

  /** @param {net.Socket} socket @param {boolean} secure */
  function accept(socket, secure) {
    if (closing) {
      socket.destroy()
      return
    }
    const connection = new Pop3Connection(socket, {
      worker,
      log,
      locks,
      secureContext,
      secure,
      publicLogin: config.pop3PublicLogin,
      serverName: config.serverName,
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
