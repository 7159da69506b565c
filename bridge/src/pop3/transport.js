import tls from 'node:tls'
import { POP3_MAX_LINE_BYTES, POP3_MAX_QUEUED_COMMANDS } from '../limits.js'
import { CommandReader } from './command-reader.js'

/** @typedef {import('../log.js').Logger} Logger */
/** @typedef {import('./command-reader.js').CommandLine} CommandLine */
/** @typedef {import('node:net').Socket} Socket */

/**
 * @typedef {object} TransportHandlers
 * @property {(line: CommandLine) => Promise<void>} onLine runs one command; the next waits
 * @property {() => void} onIdle the queue ran dry
 * @property {() => void} onTimeout the socket was idle for longer than the timeout
 * @property {() => void} onClose the socket is gone
 */

/**
 * The bytes side of a POP3 session: reads command lines into a queue and runs them strictly
 * one after another, which is what makes pipelining (RFC 2449 section 6.6) safe, since replies
 * leave in the order the commands came in; writes with backpressure; upgrades to TLS.
 */
export class Pop3Transport {
  /**
   * @param {Socket} socket
   * @param {{ id: string, log: Logger, timeoutMs: number, handlers: TransportHandlers }} options
   */
  constructor(socket, { id, log, timeoutMs, handlers }) {
    this.id = id
    this.log = log
    this.timeoutMs = timeoutMs
    this.handlers = handlers
    this.closed = false
    this.busy = false
    /** @type {CommandLine[]} */
    this.queue = []
    this.reader = new CommandReader(POP3_MAX_LINE_BYTES)
    /** @type {() => void} */
    this.resolveDone = () => {}
    /** @type {Promise<void>} resolves once the socket is closed */
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
    /** @type {Socket} */
    this.socket = socket
    this.attach(socket)
  }

  /** @param {number} ms the idle time before onTimeout (RFC 1939 section 3's autologout) */
  setTimeout(ms) {
    this.timeoutMs = ms
    this.socket.setTimeout(ms)
  }

  /** @param {Socket} socket */
  attach(socket) {
    this.socket = socket
    socket.setTimeout(this.timeoutMs)
    socket.on('data', (chunk) => this.onData(chunk))
    socket.on('timeout', () => this.handlers.onTimeout())
    socket.on('error', (err) => this.log.debug('pop3 socket error', { session: this.id, err }))
    socket.on('close', () => this.onClose())
  }

  /** @param {Buffer} chunk */
  onData(chunk) {
    this.queue.push(...this.reader.push(chunk))
    if (this.queue.length >= POP3_MAX_QUEUED_COMMANDS) this.socket.pause()
    void this.runQueue()
  }

  async runQueue() {
    if (this.busy) return
    this.busy = true
    try {
      // Once the session has ended its side (QUIT, too many failures), what was pipelined
      // after that is not run.
      while (this.queue.length && !this.closed && !this.socket.writableEnded) {
        const line = /** @type {CommandLine} */ (this.queue.shift())
        try {
          await this.handlers.onLine(line)
        } catch (err) {
          this.log.error('pop3 command failed', { session: this.id, err })
          await this.send('-ERR [SYS/TEMP] internal error')
        }
        if (this.queue.length < POP3_MAX_QUEUED_COMMANDS / 2 && this.socket.isPaused()) {
          this.socket.resume()
        }
      }
    } finally {
      this.busy = false
    }
    this.handlers.onIdle()
  }

  /**
   * RFC 2595 section 4: sends the +OK in plaintext, then continues over TLS on the same socket.
   * @param {tls.SecureContext} secureContext
   * @param {string} reply
   */
  async startTls(secureContext, reply) {
    // Whatever was pipelined after STLS arrived in plaintext and could have been injected by a
    // man in the middle (CVE-2011-0411): none of it may run inside the TLS session.
    this.queue.length = 0
    this.reader.reset()
    const plain = this.socket
    plain.removeAllListeners('data')
    plain.removeAllListeners('timeout')
    plain.removeAllListeners('close')
    plain.removeAllListeners('error')
    plain.on('error', () => {})
    await new Promise((resolve) => plain.write(reply + '\r\n', resolve))
    this.attach(new tls.TLSSocket(plain, { isServer: true, secureContext }))
  }

  /** @param {string} line */
  send(line) {
    return this.write(line + '\r\n')
  }

  /**
   * RFC 1939 section 3: multi-line responses end with "." and lines starting with "." are
   * dot-stuffed.
   * @param {string} status
   * @param {string[]} lines
   */
  sendMultiline(status, lines) {
    const body = lines.map((line) => (line.startsWith('.') ? '.' + line : line))
    return this.write([status, ...body, '.', ''].join('\r\n'))
  }

  /**
   * @param {string | Buffer} data
   * @returns {Promise<void>} resolves once the socket can take more (or is gone)
   */
  write(data) {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return Promise.resolve()
    if (this.socket.write(data)) return Promise.resolve()
    return new Promise((resolve) => {
      const socket = this.socket
      const done = () => {
        socket.off('drain', done)
        socket.off('close', done)
        resolve()
      }
      socket.on('drain', done)
      socket.on('close', done)
    })
  }

  /** Sends what is queued, then closes. */
  end() {
    if (this.closed) return
    this.socket.end()
  }

  destroy() {
    this.socket.destroy()
  }

  onClose() {
    if (this.closed) return
    this.closed = true
    this.queue.length = 0
    this.handlers.onClose()
    this.resolveDone()
  }
}
