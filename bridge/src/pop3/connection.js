import { randomBytes } from 'node:crypto'
import { State, WRONG_STATE } from './states.js'
import { cleartextLoginAllowed } from '../cleartext.js'
import { MAX_LOGIN_FAILURES, POP3_IDLE_TIMEOUT_MS } from '../limits.js'
import { LINE_TOO_LONG } from './command-reader.js'
import { MailStoreError } from './mailbox.js'
import * as authorization from './authorization.js'
import * as transaction from './transaction.js'
import { Pop3Transport } from './transport.js'

/** @typedef {import('../log.js').Logger} Logger */
/** @typedef {import('./mailbox.js').Mailbox} Mailbox */
/** @typedef {import('./mailbox.js').MailboxMessage} MailboxMessage */
/** @typedef {import('./mailbox.js').MailStore} MailStore */
/** @typedef {import('./command-reader.js').CommandLine} CommandLine */
/** @typedef {import('node:net').Socket} Socket */
/** @typedef {import('./states.js').Pop3State} Pop3State */

/**
 * @typedef {object} ConnectionOptions
 * @property {MailStore} store every storage call (login, RETR, the deletes at UPDATE, the lock)
 * @property {Logger} log
 * @property {import('node:tls').SecureContext | null} secureContext for STLS; null when TLS is not configured
 * @property {boolean} secure the socket is already TLS (implicit-TLS port)
 * @property {string} serverName
 * @property {import('../cleartext.js').CleartextLogin} cleartextLogin
 * @property {number} loginFailureDelayMs
 * @property {number} loginTimeoutMs autologout before login (POP3_IDLE_TIMEOUT_MS after)
 */

/**
 * One POP3 session (RFC 1939, with RFC 2449 CAPA, RFC 2595 STLS and RFC 5034 SASL PLAIN): the
 * state machine. Bytes, pipelining and TLS are the transport's; storage is the store's.
 */
export class Pop3Connection {
  /**
   * @param {Socket} socket
   * @param {ConnectionOptions} options
   */
  constructor(socket, options) {
    this.id = randomBytes(6).toString('hex')
    this.options = options
    this.store = options.store
    this.log = options.log
    this.remoteAddress = socket.remoteAddress ?? ''
    this.secure = options.secure
    /** @type {Pop3State} */
    this.state = State.AUTHORIZATION
    /** @type {string | null} address given with USER, normalised */
    this.user = null
    /** @type {Mailbox | null} the inbox of this session once in TRANSACTION */
    this.mailbox = null
    /** @type {'PLAIN' | null} a SASL exchange waits for the client's next line */
    this.saslMechanism = null
    this.shuttingDown = false
    /** failed logins so far; MAX_LOGIN_FAILURES closes the connection */
    this.loginFailures = 0
    /** this session holds the inbox lock (released once, at QUIT or close) */
    this.locked = false
    /** @type {Pop3Transport} */
    this.io = new Pop3Transport(socket, {
      id: this.id,
      log: this.log,
      timeoutMs: options.loginTimeoutMs,
      handlers: {
        onLine: (line) => this.handleLine(line),
        onIdle: () => {
          if (this.shuttingDown && this.state === State.AUTHORIZATION) this.end()
        },
        onTimeout: () => {
          // RFC 1939 section 3: the autologout timer closes without entering UPDATE. No
          // response code: RFC 3206's SYS/PERM would tell the client the server is broken.
          this.send('-ERR autologout: idle for too long')
          this.end()
        },
        onClose: () => this.onClose(),
      },
    })
    /** resolves once the socket is closed */
    this.done = this.io.done
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
    if (this.state === State.AUTHORIZATION && !this.io.busy) this.end()
  }

  /** Hard stop once the grace period is over; pending deletes are dropped, as RFC 1939 allows. */
  destroy() {
    this.io.destroy()
  }

  /** @param {CommandLine} line */
  async handleLine(line) {
    if (line === LINE_TOO_LONG) {
      this.saslMechanism = null
      return this.send('-ERR line too long')
    }
    if (this.saslMechanism) return authorization.continueSasl(this, line)

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
        return authorization.handleUser(this, argument)
      case 'PASS':
        return authorization.handlePass(this, argument)
      case 'AUTH':
        return authorization.handleAuth(this, argument)
      case 'APOP':
        return authorization.handleApop(this)
      case 'STLS':
        return authorization.handleStls(this)
      case 'STAT':
        return transaction.handleStat(this)
      case 'LIST':
        return transaction.handleList(this, argument)
      case 'UIDL':
        return transaction.handleUidl(this, argument)
      case 'RETR':
        return transaction.handleRetr(this, argument)
      case 'TOP':
        return transaction.handleTop(this, argument)
      case 'DELE':
        return transaction.handleDele(this, argument)
      case 'RSET':
        return transaction.handleRset(this)
      case 'NOOP':
        return transaction.handleNoop(this)
      case 'QUIT':
        return this.handleQuit()
      default:
        return this.send('-ERR unknown command')
    }
  }

  /**
   * Whether this connection may carry a password: TLS, or a client the cleartextLogin setting
   * trusts (RFC 2595 section 2.2 lets a server refuse cleartext logins).
   */
  cleartextOk() {
    return this.secure || cleartextLoginAllowed(this.options.cleartextLogin, this.remoteAddress)
  }

  /** RFC 2449 section 5: CAPA, valid in every state. */
  handleCapa() {
    const capabilities = ['TOP', 'UIDL', 'PIPELINING', 'RESP-CODES', 'AUTH-RESP-CODE']
    // Where a password would travel in the clear, the only way in offered is STLS, as Dovecot
    // does by default.
    if (this.cleartextOk()) capabilities.unshift('USER')
    if (this.cleartextOk()) capabilities.push('SASL PLAIN')
    if (this.options.secureContext && !this.secure && this.state === State.AUTHORIZATION) {
      capabilities.push('STLS')
    }
    capabilities.push('IMPLEMENTATION mailsac-edge-bridge')
    return this.sendMultiline('+OK capability list follows', capabilities)
  }

  /**
   * RFC 1939 section 4: a successful login takes the maildrop's lock and enters TRANSACTION.
   * @param {string} user normalised address
   * @param {string} password
   */
  async login(user, password) {
    if (this.shuttingDown) return this.send('-ERR [SYS/TEMP] server shutting down, try again later')
    /** @type {Mailbox} */
    let mailbox
    try {
      mailbox = await this.store.open(user, password, this.remoteAddress)
    } catch (err) {
      if (err instanceof MailStoreError && err.kind === 'auth') {
        this.log.info('pop3 login refused', { session: this.id, ip: this.remoteAddress, user })
        return this.refuseLogin()
      }
      this.log.warn('pop3 login failed', { session: this.id, user, err: causeOf(err) })
      return this.send('-ERR [SYS/TEMP] mail store unavailable, try again later')
    }
    if (this.io.closed) return
    // RFC 1939 section 4 asks for an exclusive lock on the maildrop; two sessions deleting
    // from one inbox would each see numbers the other invalidated.
    if (!this.store.lock(user)) {
      return this.send('-ERR [IN-USE] the inbox is already open in another session')
    }
    this.locked = true
    this.mailbox = mailbox
    this.state = State.TRANSACTION
    this.io.setTimeout(POP3_IDLE_TIMEOUT_MS)
    this.log.info('pop3 login', {
      session: this.id,
      ip: this.remoteAddress,
      inbox: user,
      access: mailbox.caller.apiKey ? 'key' : 'public',
      messages: mailbox.messages.length,
    })
    const { count, octets } = this.totals()
    return this.send(`+OK ${count} messages (${octets} octets)`)
  }

  /**
   * Answers a failed login a little later, and closes the connection at the last failure
   * allowed, so one connection can't try keys as fast as the Worker answers.
   */
  async refuseLogin() {
    this.loginFailures++
    await new Promise((resolve) => setTimeout(resolve, this.options.loginFailureDelayMs))
    if (this.loginFailures >= MAX_LOGIN_FAILURES) {
      await this.send('-ERR [AUTH] invalid credentials; too many failures, closing')
      return this.end()
    }
    // RFC 3206 section 4: [AUTH] says the credentials, not the server, are the problem.
    return this.send('-ERR [AUTH] invalid credentials')
  }

  /**
   * RFC 1939 section 4 (AUTHORIZATION: just close) and section 6 (TRANSACTION: enter UPDATE,
   * remove the messages marked as deleted, then close).
   */
  async handleQuit() {
    if (this.state === State.AUTHORIZATION) {
      await this.send(`+OK ${this.options.serverName} POP3 signing off`)
      return this.end()
    }
    if (this.state !== State.TRANSACTION) return this.send(WRONG_STATE)
    this.state = State.UPDATE
    const failed = await this.update()
    // RFC 1939 section 6: the session is over once UPDATE is; another may open the inbox now,
    // not whenever this client gets round to closing its side.
    this.unlock()
    if (failed > 0) {
      await this.send(`-ERR [SYS/TEMP] some deleted messages not removed (${failed} failed)`)
    } else {
      await this.send(`+OK ${this.options.serverName} POP3 signing off`)
    }
    return this.end()
  }

  // UPDATE state

  /**
   * RFC 1939 section 6: removes the messages marked as deleted.
   * @returns {Promise<number>} how many deletes failed
   */
  async update() {
    const mailbox = /** @type {Mailbox} */ (this.mailbox)
    const doomed = mailbox.messages.filter((message) => message.deleted)
    const failed = doomed.length ? await this.store.remove(mailbox, doomed) : 0
    this.log.info('pop3 update', {
      session: this.id,
      inbox: mailbox.inbox,
      deleted: doomed.length - failed,
      failed,
    })
    return failed
  }

  // the snapshot and the wire

  /** @returns {MailboxMessage[]} the snapshot, empty before login */
  messages() {
    return this.mailbox?.messages ?? []
  }

  /**
   * Octet counts in STAT, LIST and RETR are the message as RETR sends it before dot-stuffing,
   * as Dovecot counts them (pop3Octets): the Worker's `crlfSize` when it lists one, else its
   * raw byte length, which is exact for CRLF mail and a few octets short for bare-LF mail.
   */
  totals() {
    let count = 0
    let octets = 0
    for (const message of this.messages()) {
      if (message.deleted) continue
      count++
      octets += message.size
    }
    return { count, octets }
  }

  /** @param {string} line */
  send(line) {
    return this.io.send(line)
  }

  /** @param {string} status @param {string[]} lines */
  sendMultiline(status, lines) {
    return this.io.sendMultiline(status, lines)
  }

  end() {
    this.io.end()
  }

  unlock() {
    if (!this.locked || !this.mailbox) return
    this.locked = false
    this.store.unlock(this.mailbox.inbox)
  }

  onClose() {
    this.unlock()
    this.log.debug('pop3 close', { session: this.id, state: this.state })
  }
}

/** @param {unknown} err what to log: the store's underlying failure, if it has one */
function causeOf(err) {
  return err instanceof MailStoreError && err.cause ? err.cause : err
}
