import { randomBytes } from 'node:crypto'
import tls from 'node:tls'
import { POP3_IDLE_TIMEOUT_MS, POP3_MAX_LINE_BYTES, POP3_MAX_QUEUED_COMMANDS } from '../limits.js'
import { WorkerResponseError } from '../worker-client.js'
import { loadMailbox } from './mailbox.js'
import { MessageEncoder } from './message-encoder.js'

/** @typedef {import('../worker-client.js').WorkerClient} WorkerClient */
/** @typedef {import('../log.js').Logger} Logger */
/** @typedef {import('./mailbox.js').MailboxMessage} MailboxMessage */
/** @typedef {import('node:net').Socket} Socket */

/** @typedef {'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE'} Pop3State */

/** RFC 1939 section 3: the states a POP3 session moves through. */
export const State = Object.freeze({
  AUTHORIZATION: /** @type {Pop3State} */ ('AUTHORIZATION'),
  TRANSACTION: /** @type {Pop3State} */ ('TRANSACTION'),
  UPDATE: /** @type {Pop3State} */ ('UPDATE'),
})

/** Marks a line that overflowed POP3_MAX_LINE_BYTES so it is answered in order with the rest. */
const LINE_TOO_LONG = Symbol('line too long')

/** Deletes at QUIT go to the Worker a few at a time: faster than one by one, gentle on D1. */
const UPDATE_CONCURRENCY = 8

/**
 * @typedef {object} ConnectionOptions
 * @property {WorkerClient} worker
 * @property {Logger} log
 * @property {Set<string>} locks inboxes with a session in TRANSACTION, for RFC 1939's exclusive lock
 * @property {tls.SecureContext | null} secureContext for STLS; null when TLS is not configured
 * @property {boolean} secure the socket is already TLS (implicit-TLS port)
 * @property {boolean} publicLogin public inboxes open with any password
 * @property {string} serverName
 */

/**
 * One POP3 session (RFC 1939, with RFC 2449 CAPA, RFC 2595 STLS and RFC 5034 SASL PLAIN).
 *
 * Commands are read into a queue and run strictly one after another, which is what makes
 * pipelining (RFC 2449 section 6.6) safe: replies leave in the order the commands came in.
 */
export class Pop3Connection {
  /**
   * @param {Socket} socket
   * @param {ConnectionOptions} options
   */
  constructor(socket, options) {
    this.id = randomBytes(6).toString('hex')
    this.options = options
    this.log = options.log
    this.remoteAddress = socket.remoteAddress ?? ''
    this.secure = options.secure
    this.state = State.AUTHORIZATION
    /** @type {string | null} address given with USER, normalised */
    this.user = null
    /** @type {string | null} the inbox of this session once logged in */
    this.inbox = null
    /** @type {string | null} null for a public inbox opened without a valid key */
    this.apiKey = null
    /** @type {MailboxMessage[]} */
    this.messages = []
    /** @type {'PLAIN' | null} a SASL exchange waits for the client's next line */
    this.saslMechanism = null
    this.shuttingDown = false
    this.closed = false
    this.busy = false
    /** @type {(string | typeof LINE_TOO_LONG)[]} */
    this.queue = []
    this.pending = Buffer.alloc(0)
    this.discardingLongLine = false
    /** @type {Promise<void>} resolves once the socket is closed */
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve
    })
    /** @type {Socket} */
    this.socket = socket
    this.attach(socket)
  }

  start() {
    this.log.debug('pop3 connect', { session: this.id, ip: this.remoteAddress, tls: this.secure })
    // No APOP timestamp in the greeting: APOP needs the plaintext key on the server, and the
    // bridge only ever sees keys the client sends (RFC 1939 section 7).
    this.send(`+OK ${this.options.serverName} POP3 ready`)
  }

  /**
   * Asks the session to end as soon as that loses nothing: at once in AUTHORIZATION, while a
   * session in TRANSACTION keeps the grace period to QUIT, which is when its deletes happen.
   */
  shutdown() {
    this.shuttingDown = true
    if (this.state === State.AUTHORIZATION && !this.busy) this.end()
  }

  /** Hard stop once the grace period is over; pending deletes are dropped, as RFC 1939 allows. */
  destroy() {
    this.socket.destroy()
  }

  /** @param {Socket} socket */
  attach(socket) {
    this.socket = socket
    socket.setTimeout(POP3_IDLE_TIMEOUT_MS)
    socket.on('data', (chunk) => this.onData(chunk))
    socket.on('timeout', () => {
      // RFC 1939 section 3: the autologout timer closes without entering UPDATE.
      this.send('-ERR [SYS/PERM] autologout: idle for too long')
      this.end()
    })
    socket.on('error', (err) => this.log.debug('pop3 socket error', { session: this.id, err }))
    socket.on('close', () => this.onClose())
  }

  /** @param {Buffer} chunk */
  onData(chunk) {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    let lineStart = 0
    let newline
    while ((newline = data.indexOf(0x0a, lineStart)) !== -1) {
      if (this.discardingLongLine) {
        this.discardingLongLine = false
      } else if (newline - lineStart > POP3_MAX_LINE_BYTES) {
        this.queue.push(LINE_TOO_LONG)
      } else {
        let end = newline
        if (end > lineStart && data[end - 1] === 0x0d) end--
        this.queue.push(data.toString('utf8', lineStart, end))
      }
      lineStart = newline + 1
    }
    data = data.subarray(lineStart)
    if (data.length > POP3_MAX_LINE_BYTES) {
      if (!this.discardingLongLine) this.queue.push(LINE_TOO_LONG)
      this.discardingLongLine = true
      data = Buffer.alloc(0)
    }
    // Copy so a small remainder doesn't pin the socket's whole 64 KB read buffer.
    this.pending = data.length ? Buffer.from(data) : Buffer.alloc(0)
    if (this.queue.length >= POP3_MAX_QUEUED_COMMANDS) this.socket.pause()
    void this.runQueue()
  }

  async runQueue() {
    if (this.busy) return
    this.busy = true
    try {
      while (this.queue.length && !this.closed) {
        const line = /** @type {string | typeof LINE_TOO_LONG} */ (this.queue.shift())
        try {
          await this.handleLine(line)
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
    if (this.shuttingDown && this.state === State.AUTHORIZATION) this.end()
  }

  /** @param {string | typeof LINE_TOO_LONG} line */
  async handleLine(line) {
    if (line === LINE_TOO_LONG) {
      this.saslMechanism = null
      return this.send('-ERR line too long')
    }
    if (this.saslMechanism) return this.continueSasl(line)

    const space = line.indexOf(' ')
    const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase()
    const argument = space === -1 ? '' : line.slice(space + 1)
    this.log.debug('pop3 command', {
      session: this.id,
      // Never log credentials: PASS carries an API key and AUTH PLAIN one in base64.
      command: verb === 'PASS' || verb === 'AUTH' || verb === 'APOP' ? `${verb} ****` : line,
    })

    switch (verb) {
      case 'CAPA':
        return this.handleCapa()
      case 'USER':
        return this.handleUser(argument)
      case 'PASS':
        return this.handlePass(argument)
      case 'AUTH':
        return this.handleAuth(argument)
      case 'APOP':
        return this.handleApop()
      case 'STLS':
        return this.handleStls()
      case 'STAT':
        return this.handleStat()
      case 'LIST':
        return this.handleList(argument)
      case 'UIDL':
        return this.handleUidl(argument)
      case 'RETR':
        return this.handleRetr(argument)
      case 'TOP':
        return this.handleTop(argument)
      case 'DELE':
        return this.handleDele(argument)
      case 'RSET':
        return this.handleRset()
      case 'NOOP':
        return this.handleNoop()
      case 'QUIT':
        return this.handleQuit()
      default:
        return this.send('-ERR unknown command')
    }
  }

  // AUTHORIZATION state

  /** RFC 2449 section 5: CAPA is valid in every state. */
  handleCapa() {
    const capabilities = ['USER', 'TOP', 'UIDL', 'PIPELINING', 'RESP-CODES', 'AUTH-RESP-CODE']
    capabilities.push('SASL PLAIN')
    if (this.options.secureContext && !this.secure && this.state === State.AUTHORIZATION) {
      capabilities.push('STLS')
    }
    capabilities.push('IMPLEMENTATION mailsac-edge-bridge')
    return this.sendMultiline('+OK capability list follows', capabilities)
  }

  /**
   * RFC 1939 section 7: USER name, AUTHORIZATION state only.
   * @param {string} argument
   */
  handleUser(argument) {
    if (this.state !== State.AUTHORIZATION) return this.send('-ERR command not valid in this state')
    const user = normaliseAddress(argument)
    if (!user) return this.send('-ERR USER requires an email address')
    this.user = user
    return this.send('+OK send the API key with PASS')
  }

  /**
   * RFC 1939 section 7: PASS string, only right after a successful USER.
   * @param {string} argument
   */
  async handlePass(argument) {
    if (this.state !== State.AUTHORIZATION) return this.send('-ERR command not valid in this state')
    if (!this.user) return this.send('-ERR send USER first')
    const user = this.user
    // RFC 1939: a failed PASS sends the client back to USER.
    this.user = null
    if (!argument) return this.send('-ERR [AUTH] PASS requires the API key')
    return this.login(user, argument)
  }

  /**
   * RFC 5034 section 4: AUTH mechanism [initial-response], AUTHORIZATION state only.
   * @param {string} argument
   */
  async handleAuth(argument) {
    if (this.state !== State.AUTHORIZATION) return this.send('-ERR command not valid in this state')
    const [mechanism = '', initialResponse, extra] = argument.split(' ').filter(Boolean)
    if (!mechanism) {
      // The pre-RFC 5034 form lists mechanisms; older clients still probe with it.
      return this.sendMultiline('+OK supported mechanisms follow', ['PLAIN'])
    }
    if (mechanism.toUpperCase() !== 'PLAIN' || extra !== undefined) {
      return this.send('-ERR unsupported authentication mechanism')
    }
    if (initialResponse === undefined) {
      this.saslMechanism = 'PLAIN'
      return this.send('+ ')
    }
    // RFC 5034 section 4: "=" stands for an empty initial response.
    return this.finishSaslPlain(initialResponse === '=' ? '' : initialResponse)
  }

  /** @param {string} line the client's answer to the "+ " continuation */
  async continueSasl(line) {
    this.saslMechanism = null
    // RFC 5034 section 4: "*" cancels the exchange.
    if (line.trim() === '*') return this.send('-ERR authentication cancelled')
    return this.finishSaslPlain(line.trim())
  }

  /**
   * RFC 4616: message = [authzid] NUL authcid NUL passwd.
   * @param {string} encoded
   */
  async finishSaslPlain(encoded) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
      return this.send('-ERR [AUTH] invalid base64 in SASL PLAIN response')
    }
    const parts = Buffer.from(encoded, 'base64').toString('utf8').split('\0')
    if (parts.length !== 3) return this.send('-ERR [AUTH] malformed SASL PLAIN response')
    const [authzid, authcid, password] = parts
    const user = normaliseAddress(authcid)
    // Acting on behalf of another identity is not a thing here: only "none" or "myself".
    if (!user || !password || (authzid && normaliseAddress(authzid) !== user)) {
      return this.send('-ERR [AUTH] invalid credentials')
    }
    return this.login(user, password)
  }

  /** RFC 1939 section 7 (optional): not offered, since it needs the key in plaintext here. */
  handleApop() {
    if (this.state !== State.AUTHORIZATION) return this.send('-ERR command not valid in this state')
    return this.send('-ERR APOP not supported, use USER/PASS or AUTH PLAIN')
  }

  /** RFC 2595 section 4: STLS, AUTHORIZATION state, before any login. */
  async handleStls() {
    if (this.state !== State.AUTHORIZATION) return this.send('-ERR command not valid in this state')
    if (this.secure) return this.send('-ERR already using TLS')
    if (!this.options.secureContext) return this.send('-ERR TLS not available')
    // Whatever was pipelined after STLS arrived in plaintext and could have been injected by a
    // man in the middle (CVE-2011-0411): none of it may run inside the TLS session.
    this.queue.length = 0
    this.pending = Buffer.alloc(0)
    this.user = null
    const plain = this.socket
    plain.removeAllListeners('data')
    plain.removeAllListeners('timeout')
    plain.removeAllListeners('close')
    plain.removeAllListeners('error')
    plain.on('error', () => {})
    await new Promise((resolve) => plain.write('+OK begin TLS negotiation\r\n', resolve))
    const secureSocket = new tls.TLSSocket(plain, {
      isServer: true,
      secureContext: this.options.secureContext,
    })
    this.secure = true
    this.attach(secureSocket)
  }

  /**
   * Opens the inbox with the given key. A key that the Worker refuses may still open a public
   * inbox when public login is allowed, since public inboxes need no key over REST either.
   * @param {string} user normalised address
   * @param {string} password
   */
  async login(user, password) {
    if (this.shuttingDown) return this.send('-ERR [SYS/TEMP] server shutting down, try again later')
    // A value that can't be an HTTP header can't be a key either, and fetch would throw on it.
    const usableKey = /^[\x21-\x7e]+$/.test(password) ? password : null
    /** @type {MailboxMessage[]} */
    let messages
    /** @type {string | null} */
    let apiKey = usableKey
    try {
      try {
        if (!usableKey) throw new WorkerResponseError(401, 'unauthorized', 'not an API key')
        messages = await loadMailbox(this.options.worker, user, this.caller(usableKey))
      } catch (err) {
        if (!(err instanceof WorkerResponseError) || err.status !== 401) throw err
        if (!this.options.publicLogin) throw err
        apiKey = null
        messages = await loadMailbox(this.options.worker, user, this.caller(null))
      }
    } catch (err) {
      // 429 is the Worker's rate limit: the credentials may be fine, so not [AUTH].
      if (err instanceof WorkerResponseError && err.status < 500 && err.status !== 429) {
        this.log.info('pop3 login refused', { session: this.id, ip: this.remoteAddress, user })
        // RFC 3206 section 4: [AUTH] says the credentials, not the server, are the problem.
        return this.send('-ERR [AUTH] invalid credentials')
      }
      this.log.warn('pop3 login failed', { session: this.id, user, err })
      return this.send('-ERR [SYS/TEMP] mail store unavailable, try again later')
    }
    if (this.closed) return
    // RFC 1939 section 4 asks for an exclusive lock on the maildrop; two sessions deleting
    // from one inbox would each see numbers the other invalidated.
    if (this.options.locks.has(user)) {
      return this.send('-ERR [IN-USE] the inbox is already open in another session')
    }
    this.options.locks.add(user)
    this.inbox = user
    this.apiKey = apiKey
    this.messages = messages
    this.state = State.TRANSACTION
    this.log.info('pop3 login', {
      session: this.id,
      ip: this.remoteAddress,
      inbox: user,
      access: apiKey ? 'key' : 'public',
      messages: messages.length,
    })
    const { count, octets } = this.totals()
    return this.send(`+OK ${count} messages (${octets} octets)`)
  }

  // TRANSACTION state

  /** RFC 1939 section 5: STAT, TRANSACTION state only. */
  handleStat() {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    const { count, octets } = this.totals()
    return this.send(`+OK ${count} ${octets}`)
  }

  /**
   * RFC 1939 section 5: LIST [msg], TRANSACTION state only.
   * @param {string} argument
   */
  handleList(argument) {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    if (argument) {
      const found = this.findMessage(argument)
      if (typeof found === 'string') return this.send(found)
      return this.send(`+OK ${found.number} ${found.message.size}`)
    }
    const { count, octets } = this.totals()
    const lines = []
    for (let i = 0; i < this.messages.length; i++) {
      if (!this.messages[i].deleted) lines.push(`${i + 1} ${this.messages[i].size}`)
    }
    return this.sendMultiline(`+OK ${count} messages (${octets} octets)`, lines)
  }

  /**
   * RFC 1939 section 7: UIDL [msg], TRANSACTION state only. The UID is the Mailsac `_id`.
   * @param {string} argument
   */
  handleUidl(argument) {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    if (argument) {
      const found = this.findMessage(argument)
      if (typeof found === 'string') return this.send(found)
      return this.send(`+OK ${found.number} ${found.message.id}`)
    }
    const lines = []
    for (let i = 0; i < this.messages.length; i++) {
      if (!this.messages[i].deleted) lines.push(`${i + 1} ${this.messages[i].id}`)
    }
    return this.sendMultiline('+OK unique-id listing follows', lines)
  }

  /**
   * RFC 1939 section 5: RETR msg, TRANSACTION state only.
   * @param {string} argument
   */
  handleRetr(argument) {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    if (!argument || argument.includes(' ')) return this.send('-ERR usage: RETR msg')
    const found = this.findMessage(argument)
    if (typeof found === 'string') return this.send(found)
    return this.sendMessage(found.message, `+OK ${found.message.size} octets`, Infinity)
  }

  /**
   * RFC 1939 section 7: TOP msg n, TRANSACTION state only.
   * @param {string} argument
   */
  handleTop(argument) {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    const [number, lines, extra] = argument.split(' ').filter(Boolean)
    if (!number || !lines || extra !== undefined || !/^\d+$/.test(lines)) {
      return this.send('-ERR usage: TOP msg n')
    }
    const found = this.findMessage(number)
    if (typeof found === 'string') return this.send(found)
    return this.sendMessage(found.message, '+OK top of message follows', Number(lines))
  }

  /**
   * RFC 1939 section 5: DELE msg, TRANSACTION state only; the delete waits for UPDATE.
   * @param {string} argument
   */
  handleDele(argument) {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    const number = parseMessageNumber(argument)
    if (number === null) return this.send('-ERR invalid message number')
    const message = this.messages[number - 1]
    if (!message) return this.send('-ERR no such message')
    if (message.deleted) return this.send(`-ERR message ${number} already deleted`)
    message.deleted = true
    return this.send(`+OK message ${number} deleted`)
  }

  /** RFC 1939 section 5: RSET, TRANSACTION state only; unmarks every deleted message. */
  handleRset() {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    for (const message of this.messages) message.deleted = false
    const { count, octets } = this.totals()
    return this.send(`+OK maildrop has ${count} messages (${octets} octets)`)
  }

  /** RFC 1939 section 5: NOOP, TRANSACTION state only. */
  handleNoop() {
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    return this.send('+OK')
  }

  /**
   * RFC 1939 section 4 (AUTHORIZATION: just close) and section 6 (TRANSACTION: enter UPDATE
   * and remove the messages marked as deleted, then close).
   */
  async handleQuit() {
    if (this.state === State.AUTHORIZATION) {
      await this.send(`+OK ${this.options.serverName} POP3 signing off`)
      return this.end()
    }
    if (this.state !== State.TRANSACTION) return this.send('-ERR command not valid in this state')
    this.state = State.UPDATE
    const failed = await this.applyDeletes()
    if (failed > 0) {
      await this.send(`-ERR [SYS/TEMP] some deleted messages not removed (${failed} failed)`)
    } else {
      await this.send(`+OK ${this.options.serverName} POP3 signing off`)
    }
    return this.end()
  }

  // UPDATE state

  /** @returns {Promise<number>} how many deletes failed */
  async applyDeletes() {
    const doomed = this.messages.filter((message) => message.deleted)
    let failed = 0
    for (let i = 0; i < doomed.length; i += UPDATE_CONCURRENCY) {
      const batch = doomed.slice(i, i + UPDATE_CONCURRENCY)
      const results = await Promise.allSettled(
        batch.map((message) =>
          this.options.worker.deleteMessage(
            /** @type {string} */ (this.inbox),
            message.id,
            this.caller(this.apiKey),
          ),
        ),
      )
      for (const result of results) {
        // Already gone (deleted over REST, or expired) is what QUIT wanted anyway.
        if (result.status === 'rejected') {
          const err = result.reason
          if (err instanceof WorkerResponseError && err.status === 404) continue
          failed++
          this.log.warn('pop3 delete failed', { session: this.id, inbox: this.inbox, err })
        }
      }
    }
    this.log.info('pop3 update', {
      session: this.id,
      inbox: this.inbox,
      deleted: doomed.length - failed,
      failed,
    })
    return failed
  }

  // helpers

  /**
   * The session as the Worker should see it: the key it logged in with and the client address
   * (anonymous requests are rate-limited per client, not per bridge).
   * @param {string | null} apiKey
   */
  caller(apiKey) {
    return { apiKey, clientIp: this.remoteAddress }
  }

  /**
   * Streams one message from the Worker through the encoder, honouring socket backpressure, so
   * memory stays flat whatever the message size.
   * @param {MailboxMessage} message
   * @param {string} statusLine
   * @param {number} bodyLines
   */
  async sendMessage(message, statusLine, bodyLines) {
    let response
    try {
      response = await this.options.worker.fetchRaw(
        /** @type {string} */ (this.inbox),
        message.id,
        this.caller(this.apiKey),
      )
    } catch (err) {
      if (err instanceof WorkerResponseError && err.status === 404) {
        return this.send('-ERR no such message, it was removed from the inbox')
      }
      this.log.warn('pop3 fetch failed', { session: this.id, messageId: message.id, err })
      return this.send('-ERR [SYS/TEMP] mail store unavailable, try again later')
    }
    await this.send(statusLine)
    const encoder = new MessageEncoder({ bodyLines })
    try {
      for await (const chunk of response) {
        const out = encoder.encode(chunk)
        if (out.length) await this.write(out)
        // Leaving the loop cancels the response, so TOP stops the download too.
        if (encoder.done || this.closed) break
      }
    } catch (err) {
      // The +OK is out and part of the message with it: no reply can tell the client the rest
      // is missing, so the connection goes, and the client sees an incomplete response.
      this.log.warn('pop3 stream failed', { session: this.id, messageId: message.id, err })
      this.destroy()
      return
    }
    await this.write(Buffer.concat([encoder.finish(), Buffer.from('.\r\n')]))
  }

  /**
   * @param {string} argument
   * @returns {{ number: number, message: MailboxMessage } | string} the message or an -ERR line
   */
  findMessage(argument) {
    const number = parseMessageNumber(argument)
    if (number === null) return '-ERR invalid message number'
    const message = this.messages[number - 1]
    // RFC 1939 section 5: a message marked as deleted may not be referred to.
    if (!message || message.deleted) return '-ERR no such message'
    return { number, message }
  }

  /**
   * Octet counts in STAT, LIST and RETR are the Worker's raw byte lengths, without fetching each
   * message: exact for CRLF mail, which is all SMTP delivers; a message stored with bare LFs is
   * sent a few octets longer than announced (RFC 1939 section 11 notes that end-of-line
   * conventions make such counts differ). Dot-stuffing never counts.
   */
  totals() {
    let count = 0
    let octets = 0
    for (const message of this.messages) {
      if (message.deleted) continue
      count++
      octets += message.size
    }
    return { count, octets }
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
    if (this.closed || this.socket.destroyed) return Promise.resolve()
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

  end() {
    if (this.closed) return
    this.socket.end()
  }

  onClose() {
    if (this.closed) return
    this.closed = true
    this.queue.length = 0
    if (this.inbox && this.state !== State.AUTHORIZATION) this.options.locks.delete(this.inbox)
    this.log.debug('pop3 close', { session: this.id, state: this.state })
    this.resolveDone()
  }
}

/**
 * Same normalisation as the REST API applies to addresses.
 * @param {string} value
 */
function normaliseAddress(value) {
  const address = value.trim().toLowerCase()
  return address.includes('@') && !/\s/.test(address) ? address : null
}

/** @param {string} argument @returns {number | null} */
function parseMessageNumber(argument) {
  const text = argument.trim()
  if (!/^[1-9]\d{0,8}$/.test(text)) return null
  return Number(text)
}
