import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { inject } from 'vitest'

/**
 * @typedef {object} Stack
 * @property {string} dir
 * @property {string} apiUrl
 * @property {string} adminToken
 * @property {string} ingestToken
 * @property {string} tlsCert
 * @property {string} tlsKey
 * @property {number} smtpPort
 * @property {number} pop3Port
 * @property {number} pop3sPort
 * @property {number} submissionPort
 * @property {number} bridgePid
 */

/** @returns {Stack} */
export function stack() {
  return inject('stack')
}

export const HOST = '127.0.0.1'

/** @param {string} [prefix] a fresh inbox no other test touches */
export function uniqueAddress(prefix = 'pop') {
  return `${prefix}-${randomBytes(5).toString('hex')}@bridge-test.example`
}

/** @returns {Promise<{ username: string, apiKey: string }>} */
export async function createAccount() {
  const username = `acct-${randomBytes(5).toString('hex')}`
  const response = await fetch(`${stack().apiUrl}/internal/admin/accounts`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack().adminToken}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ username, privateAddressCredits: 50 }),
  })
  if (!response.ok) throw new Error(`create account: ${response.status} ${await response.text()}`)
  const body = /** @type {any} */ (await response.json())
  return { username, apiKey: body.apiKey }
}

/**
 * Makes `email` a private address of the account owning `apiKey`.
 * @param {string} email
 * @param {string} apiKey
 */
export async function reserveAddress(email, apiKey) {
  const response = await fetch(`${stack().apiUrl}/api/addresses/${email}`, {
    method: 'POST',
    headers: { 'Mailsac-Key': apiKey },
  })
  if (!response.ok) throw new Error(`reserve ${email}: ${response.status} ${await response.text()}`)
}

/**
 * REST reads of public inboxes go with this account's key: anonymous requests share one
 * per-IP rate limit, which the bridge (also on 127.0.0.1) needs for its public logins.
 * @type {Promise<string> | null}
 */
let observerKey = null
async function keyFor(/** @type {string | null} */ apiKey) {
  if (apiKey) return apiKey
  observerKey ??= createAccount().then((account) => account.apiKey)
  return observerKey
}

/** @param {string} email @param {string | null} [apiKey] */
export async function listMessages(email, apiKey = null) {
  const response = await fetch(`${stack().apiUrl}/api/addresses/${email}/messages?limit=1000`, {
    headers: { 'Mailsac-Key': await keyFor(apiKey) },
  })
  if (!response.ok) throw new Error(`list ${email}: ${response.status} ${await response.text()}`)
  return /** @type {any[]} */ (await response.json())
}

/** @param {string} email @param {string} id @param {string | null} [apiKey] */
export async function fetchRaw(email, id, apiKey = null) {
  const response = await fetch(`${stack().apiUrl}/api/raw/${email}/${id}`, {
    headers: { 'Mailsac-Key': await keyFor(apiKey) },
  })
  if (!response.ok) throw new Error(`raw ${email}/${id}: ${response.status}`)
  return Buffer.from(await response.arrayBuffer())
}

/** @param {string} email @param {string} id @param {string | null} [apiKey] */
export async function deleteMessage(email, id, apiKey = null) {
  const response = await fetch(`${stack().apiUrl}/api/addresses/${email}/messages/${id}`, {
    method: 'DELETE',
    headers: { 'Mailsac-Key': await keyFor(apiKey) },
  })
  if (!response.ok) throw new Error(`delete ${email}/${id}: ${response.status}`)
}

/**
 * Stores a message straight through the Worker's ingest endpoint, bypassing SMTP, to set up
 * inboxes for POP3 tests.
 * @param {string | string[]} to
 * @param {string | Buffer} raw
 * @returns {Promise<string[]>} message ids
 */
export async function ingest(to, raw, from = 'sender@example.org') {
  const query = new URLSearchParams({ from, ip: '127.0.0.1' })
  for (const rcpt of [to].flat()) query.append('to', rcpt)
  const response = await fetch(`${stack().apiUrl}/internal/ingest?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack().ingestToken}` },
    body: raw,
  })
  if (!response.ok) throw new Error(`ingest: ${response.status} ${await response.text()}`)
  const body = /** @type {any} */ (await response.json())
  return body.messages.map((/** @type {any} */ m) => m._id)
}

/**
 * A simple RFC 5322 message with CRLF line endings.
 * @param {{ subject?: string, body?: string, to?: string }} [options]
 */
export function makeMessage({ subject = 'hello', body = 'Hello there.\r\n', to = 'x@y.z' } = {}) {
  return (
    `From: Sender <sender@example.org>\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${randomBytes(8).toString('hex')}@example.org>\r\n` +
    `Date: ${new Date().toUTCString()}\r\n\r\n${body}`
  )
}

/** Reverses POP3/SMTP dot-stuffing of a multi-line payload (without its terminator). */
export function unstuff(/** @type {Buffer} */ payload) {
  const text = payload.toString('latin1')
  return Buffer.from(text.replace(/^\./, '').replace(/\r\n\./g, '\r\n'), 'latin1')
}

/**
 * A line-oriented client over a real socket, for POP3 and SMTP at the protocol level.
 */
export class LineClient {
  /** @param {net.Socket | tls.TLSSocket} socket */
  constructor(socket) {
    this.socket = socket
    /** @type {Buffer} */
    this.buffer = Buffer.alloc(0)
    this.ended = false
    /** @type {(() => void) | null} */
    this.wake = null
    this.listen(socket)
  }

  /** @param {number} port @param {{ tls?: boolean }} [options] */
  static async connect(port, options = {}) {
    const socket = options.tls
      ? tls.connect({
          host: HOST,
          port,
          ca: readFileSync(stack().tlsCert),
          servername: 'localhost',
        })
      : net.connect({ host: HOST, port })
    await once(socket, options.tls ? 'secureConnect' : 'connect')
    return new LineClient(socket)
  }

  /** @param {net.Socket | tls.TLSSocket} socket */
  listen(socket) {
    socket.on('data', (chunk) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
      this.wake?.()
    })
    socket.on('end', () => {
      this.ended = true
      this.wake?.()
    })
    socket.on('close', () => {
      this.ended = true
      this.wake?.()
    })
    socket.on('error', () => {})
  }

  /** Replaces the socket with a TLS one on top of it (after STLS / STARTTLS). */
  async upgrade() {
    const plain = this.socket
    plain.removeAllListeners('data')
    plain.removeAllListeners('end')
    plain.removeAllListeners('close')
    const secure = tls.connect({
      socket: /** @type {net.Socket} */ (plain),
      ca: readFileSync(stack().tlsCert),
      servername: 'localhost',
    })
    await once(secure, 'secureConnect')
    this.socket = secure
    this.listen(secure)
    return secure
  }

  /** @param {string | Buffer} data */
  write(data) {
    this.socket.write(data)
  }

  async waitForData() {
    if (this.ended) throw new Error(`connection closed; buffered: ${this.buffer.toString()}`)
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the server')), 30_000)
      this.wake = () => {
        clearTimeout(timer)
        this.wake = null
        resolve(undefined)
      }
    })
  }

  /** @returns {Promise<string>} one line without its CRLF */
  async readLine() {
    for (;;) {
      const newline = this.buffer.indexOf('\r\n')
      if (newline !== -1) {
        const line = this.buffer.subarray(0, newline).toString('utf8')
        this.buffer = this.buffer.subarray(newline + 2)
        return line
      }
      await this.waitForData()
    }
  }

  /**
   * The payload of a multi-line response, still dot-stuffed, without the terminating ".\r\n".
   * @returns {Promise<Buffer>}
   */
  async readMultiline() {
    let searchFrom = 0
    for (;;) {
      if (this.buffer.length >= 3 && this.buffer.subarray(0, 3).toString() === '.\r\n') {
        this.buffer = this.buffer.subarray(3)
        return Buffer.alloc(0)
      }
      const end = this.buffer.indexOf('\r\n.\r\n', searchFrom)
      if (end !== -1) {
        const payload = this.buffer.subarray(0, end + 2)
        this.buffer = this.buffer.subarray(end + 5)
        return Buffer.from(payload)
      }
      searchFrom = Math.max(0, this.buffer.length - 4)
      await this.waitForData()
    }
  }

  /** @param {string} line @returns {Promise<string>} the one-line reply */
  async command(line) {
    this.write(line + '\r\n')
    return this.readLine()
  }

  /**
   * Sends a command whose success reply is multi-line.
   * @param {string} line
   * @returns {Promise<{ status: string, lines: string[], payload: Buffer }>}
   */
  async multiline(line) {
    const status = await this.command(line)
    if (!status.startsWith('+OK')) return { status, lines: [], payload: Buffer.alloc(0) }
    const payload = await this.readMultiline()
    const text = payload.toString('utf8')
    const lines = text ? text.replace(/\r\n$/, '').split('\r\n') : []
    return { status, lines, payload }
  }

  /** Reads an SMTP reply, which may span several "code-" lines. */
  async smtpReply() {
    const lines = []
    for (;;) {
      const line = await this.readLine()
      lines.push(line)
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) break
    }
    return { code: Number(lines[lines.length - 1].slice(0, 3)), text: lines.join('\n') }
  }

  /** Resolves once the server has closed the connection. */
  async closed() {
    while (!this.ended) {
      try {
        await this.waitForData()
      } catch {
        break
      }
    }
  }

  close() {
    this.socket.destroy()
  }
}

/**
 * Opens a POP3 session and logs in; returns the client and the PASS reply.
 * @param {string} email
 * @param {string} password
 */
export async function pop3Login(email, password, port = stack().pop3Port) {
  const client = await LineClient.connect(port)
  const greeting = await client.readLine()
  if (!greeting.startsWith('+OK')) throw new Error(`greeting: ${greeting}`)
  const userReply = await client.command(`USER ${email}`)
  if (!userReply.startsWith('+OK')) throw new Error(`USER: ${userReply}`)
  const passReply = await client.command(`PASS ${password}`)
  return { client, passReply }
}

/**
 * Sends one message over a raw SMTP session to the bridge.
 * @param {{ from?: string, to: string[], data: string | Buffer, port?: number }} options
 * @returns {Promise<{ code: number, text: string }>} the reply to the end of DATA
 */
export async function smtpSend({ from = 'sender@example.org', to, data, port = stack().smtpPort }) {
  const client = await LineClient.connect(port)
  try {
    await client.smtpReply()
    client.write('EHLO test.example\r\n')
    await client.smtpReply()
    client.write(`MAIL FROM:<${from}>\r\n`)
    const mail = await client.smtpReply()
    if (mail.code !== 250) return mail
    for (const rcpt of to) {
      client.write(`RCPT TO:<${rcpt}>\r\n`)
      const reply = await client.smtpReply()
      if (reply.code !== 250) return reply
    }
    client.write('DATA\r\n')
    const data354 = await client.smtpReply()
    if (data354.code !== 354) return data354
    client.write(smtpStuff(Buffer.isBuffer(data) ? data : Buffer.from(data)))
    client.write('.\r\n')
    const reply = await client.smtpReply()
    client.write('QUIT\r\n')
    return reply
  } finally {
    setTimeout(() => client.close(), 50)
  }
}

/** SMTP transparency (RFC 5321 4.5.2) for a CRLF message, ending it with CRLF. */
export function smtpStuff(/** @type {Buffer} */ message) {
  let text = message.toString('latin1')
  if (!text.endsWith('\r\n')) text += '\r\n'
  return Buffer.from(text.replace(/^\./, '..').replace(/\r\n\./g, '\r\n..'), 'latin1')
}

/**
 * @param {string} text
 * @returns {{ first: string, count: number }} the first stored id in a 250 reply and how many
 *   ids the Worker stored
 */
export function storedFromReply(text) {
  const match = /stored as (\S+)(?: \(\+(\d+) more\))?$/.exec(text)
  return match ? { first: match[1], count: 1 + Number(match[2] ?? 0) } : { first: '', count: 0 }
}

/** @param {string} text @returns {string[]} the id of a one-recipient 250 reply, as a list */
export function idsFromReply(text) {
  const { first, count } = storedFromReply(text)
  if (count > 1) throw new Error(`reply names only the first of ${count} ids: ${text}`)
  return first ? [first] : []
}

/**
 * Splits the Received header the SMTP ingest prepends (RFC 5321 4.4) from the bytes the
 * client sent, which must follow it unchanged.
 * @param {Buffer} raw a stored message
 * @returns {{ trace: string, rest: Buffer }}
 */
export function splitTrace(raw) {
  const text = raw.toString('latin1')
  const match = /^Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/.exec(text)
  if (!match) throw new Error(`no Received header first: ${text.slice(0, 80)}`)
  return { trace: match[0], rest: raw.subarray(match[0].length) }
}
