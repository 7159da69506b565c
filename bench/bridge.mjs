// Bridge benchmark, against a running `npm start` stack (wrangler dev + bridge):
//
//   node bench/bridge.mjs
//
// Prints the bridge's RSS when the bench starts, its peak RSS while 200 POP3 sessions each RETR
// a 1 MB message at once, and SMTP ingest messages/s for each connection count: accepted (every
// 250 received) and end to end (first MAIL FROM until every message shows in the REST API).
// Settings: BRIDGE_API_URL, SMTP_PORT, POP3_PORT, BRIDGE_PID (found from the POP3 port when
// unset), ADMIN_TOKEN/INGEST_TOKEN (else read from .dev.vars), POP3_SESSIONS (200; 0 skips
// POP3), MESSAGE_BYTES (1 MiB), SMTP_MESSAGES (2000 per run), SMTP_CONNECTIONS (20,100: one run
// per count; 0 skips SMTP), BENCH_PUBLIC_LOGIN (1: POP3 logins without a key). Other processes
// on the machine skew every figure, so the load average is printed next to each.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const devVars = readDevVars(join(root, '.dev.vars'))
const apiUrl = process.env.BRIDGE_API_URL ?? 'http://127.0.0.1:8787'
const ingestToken = process.env.INGEST_TOKEN ?? devVars.INGEST_TOKEN
const adminToken = process.env.ADMIN_TOKEN ?? devVars.ADMIN_TOKEN
const host = '127.0.0.1'
const smtpPort = Number(process.env.SMTP_PORT ?? 2525)
const pop3Port = Number(process.env.POP3_PORT ?? 1110)
const pop3Sessions = Number(process.env.POP3_SESSIONS ?? 200)
const messageBytes = Number(process.env.MESSAGE_BYTES ?? 1024 * 1024)
const smtpMessages = Number(process.env.SMTP_MESSAGES ?? 2000)
const smtpConnectionCounts = (process.env.SMTP_CONNECTIONS ?? '20,100')
  .split(',')
  .map(Number)
  .filter((count) => count > 0)
const run = randomBytes(3).toString('hex')

function readDevVars(file) {
  try {
    const vars = {}
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line)
      if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1')
    }
    return vars
  } catch {
    return {}
  }
}

/** The process listening on a TCP port, from /proc (Linux): socket inode -> owning fd. */
function pidListeningOn(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines = []
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1)
    } catch {
      continue
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/)
      // state 0A is LISTEN
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A') inodes.add(fields[9])
    }
  }
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`)
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
        if (inode && inodes.has(inode)) return Number(pid)
      }
    } catch {
      // a process we may not inspect, or one that just exited
    }
  }
  return null
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 }
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const load = () => `[load ${loadavg()[0].toFixed(2)}]`

/** A socket with line reads, enough for scripted SMTP and POP3. */
class Session {
  constructor(socket) {
    this.socket = socket
    this.buffer = Buffer.alloc(0)
    this.waiter = null
    socket.on('data', (chunk) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
      this.waiter?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.waiter?.()
    })
    socket.on('error', () => {})
  }

  static async open(port) {
    const socket = net.connect(port, host)
    await once(socket, 'connect')
    return new Session(socket)
  }

  async wait() {
    if (this.closed) throw new Error('connection closed')
    await new Promise((resolve) => (this.waiter = resolve))
    this.waiter = null
  }

  async line() {
    for (;;) {
      const end = this.buffer.indexOf('\r\n')
      if (end !== -1) {
        const line = this.buffer.subarray(0, end).toString()
        this.buffer = this.buffer.subarray(end + 2)
        return line
      }
      await this.wait()
    }
  }

  async smtpReply() {
    for (;;) {
      const line = await this.line()
      if (line[3] !== '-') return line
    }
  }

  /** Reads a POP3 multi-line body and returns its size, keeping only a small tail in memory. */
  async drainMultiline() {
    let total = 0
    for (;;) {
      const end = this.buffer.indexOf('\r\n.\r\n')
      if (end !== -1) {
        total += end + 2
        this.buffer = this.buffer.subarray(end + 5)
        return total
      }
      const keep = Math.min(this.buffer.length, 4)
      total += this.buffer.length - keep
      this.buffer = Buffer.from(this.buffer.subarray(this.buffer.length - keep))
      await this.wait()
    }
  }

  write(data) {
    this.socket.write(data)
  }

  close() {
    this.socket.destroy()
  }
}

async function ingest(recipients, raw) {
  const query = new URLSearchParams({ from: 'bench@example.org', ip: '127.0.0.1' })
  for (const rcpt of recipients) query.append('to', rcpt)
  const response = await fetch(`${apiUrl}/internal/ingest?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestToken}` },
    body: raw,
  })
  if (!response.ok) throw new Error(`ingest: ${response.status} ${await response.text()}`)
}

/**
 * The bench reads public inboxes with an account key: anonymous requests from one IP share a
 * rate limit that 200 sessions would exhaust, while real POP3 users come from many.
 */
async function createAccount() {
  const response = await fetch(`${apiUrl}/internal/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: `bench-${run}` }),
  })
  if (!response.ok) throw new Error(`create account: ${response.status} ${await response.text()}`)
  return (await response.json()).apiKey
}

let apiKey = ''
// BENCH_PUBLIC_LOGIN=1 logs in to the public inboxes without a key, as anonymous POP3 users do;
// the bridge's requests then count against the Worker's per-IP limit for anonymous clients.
const publicLogin = process.env.BENCH_PUBLIC_LOGIN === '1'
let pop3Password = 'bench'

async function messageCount(email) {
  const response = await fetch(`${apiUrl}/api/addresses/${email}/message-count`, {
    headers: { 'Mailsac-Key': apiKey },
  })
  if (!response.ok) throw new Error(`message-count: ${response.status}`)
  return (await response.json()).count
}

function oneMegabyteMessage() {
  const head = `From: bench@example.org\r\nSubject: pop3 bench\r\n\r\n`
  const line = `${randomBytes(57).toString('base64')}\r\n`
  return head + line.repeat(Math.ceil((messageBytes - head.length) / line.length))
}

async function pop3Retrieve(email) {
  const session = await Session.open(pop3Port)
  await session.line()
  session.write(`USER ${email}\r\nPASS ${pop3Password}\r\nRETR 1\r\n`)
  await session.line()
  const pass = await session.line()
  if (!pass.startsWith('+OK 1 ')) throw new Error(`PASS ${email}: ${pass}`)
  const retr = await session.line()
  if (!retr.startsWith('+OK')) throw new Error(`RETR: ${retr}`)
  const bytes = await session.drainMultiline()
  session.write('QUIT\r\n')
  await session.line()
  session.close()
  return bytes
}

async function smtpBatch(email, count) {
  const session = await Session.open(smtpPort)
  await session.smtpReply()
  session.write('EHLO bench.example\r\n')
  await session.smtpReply()
  for (let i = 0; i < count; i++) {
    const body =
      `From: bench@example.org\r\nTo: ${email}\r\nSubject: smtp bench ${i}\r\n` +
      `Message-ID: <${run}-${i}-${randomBytes(4).toString('hex')}@bench>\r\n\r\nHello ${i}.\r\n.\r\n`
    // PIPELINING: the envelope goes in one write, as real MTAs send it.
    session.write(`MAIL FROM:<bench@example.org>\r\nRCPT TO:<${email}>\r\nDATA\r\n`)
    for (const expected of ['250', '250', '354']) {
      const reply = await session.smtpReply()
      if (!reply.startsWith(expected)) throw new Error(`SMTP: ${reply}`)
    }
    session.write(body)
    const reply = await session.smtpReply()
    if (!reply.startsWith('250')) throw new Error(`SMTP DATA: ${reply}`)
  }
  session.write('QUIT\r\n')
  session.close()
}

async function pop3Bench(pid) {
  // 200 inboxes with one 1 MB message each, then 200 sessions at once.
  const inboxes = Array.from(
    { length: pop3Sessions },
    (_, i) => `bench-pop-${run}-${i}@bench.example`,
  )
  const raw = oneMegabyteMessage()
  for (let i = 0; i < inboxes.length; i += 40) await ingest(inboxes.slice(i, i + 40), raw)
  let peak = memory(pid).rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(pid).rss)
  }, 20)
  const pop3Start = performance.now()
  const sizes = await Promise.all(inboxes.map((email) => pop3Retrieve(email)))
  const pop3Seconds = (performance.now() - pop3Start) / 1000
  clearInterval(sampler)
  peak = Math.max(peak, memory(pid).rss)
  const totalBytes = sizes.reduce((a, b) => a + b, 0)
  console.log(
    `POP3: ${pop3Sessions} concurrent sessions x RETR ${mb(messageBytes)}: ` +
      `${pop3Seconds.toFixed(2)} s, ${mb(totalBytes / pop3Seconds)}/s ${load()}`,
  )
  console.log(`peak RSS during POP3: ${mb(peak)} ${load()}`)
}

/**
 * Messages spread over connections and inboxes. "Accepted" stops at the last 250; "end to end"
 * when every inbox lists all its messages. Each inbox is checked as soon as its connection got
 * its last 250, while the other connections still send, so the checks don't queue behind one
 * another at the end.
 */
async function smtpBench(connections) {
  const perConnection = Math.ceil(smtpMessages / connections)
  const targets = Array.from(
    { length: connections },
    (_, i) => `bench-smtp-${run}-${connections}-${i}@bench.example`,
  )
  const smtpStart = performance.now()
  let acceptedSeconds = 0
  await Promise.all(
    targets.map(async (email) => {
      await smtpBatch(email, perConnection)
      acceptedSeconds = Math.max(acceptedSeconds, (performance.now() - smtpStart) / 1000)
      while ((await messageCount(email)) < perConnection) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }),
  )
  const visibleSeconds = (performance.now() - smtpStart) / 1000
  const total = perConnection * connections
  console.log(
    `SMTP: ${total} messages over ${connections} connections: ` +
      `${(total / acceptedSeconds).toFixed(0)} msg/s accepted (250), ` +
      `${(total / visibleSeconds).toFixed(0)} msg/s end to end (visible in REST) ${load()}`,
  )
}

async function main() {
  if (!ingestToken) throw new Error('INGEST_TOKEN not set and not in .dev.vars')
  if (!adminToken) throw new Error('ADMIN_TOKEN not set and not in .dev.vars')
  const pid = Number(process.env.BRIDGE_PID) || pidListeningOn(pop3Port)
  if (!pid)
    throw new Error(`no process listens on POP3 port ${pop3Port}: is \`npm start\` running?`)
  const atStart = memory(pid)
  console.log(`bridge pid ${pid}`)
  console.log(`RSS at start: ${mb(atStart.rss)} ${load()}`)
  apiKey = await createAccount()
  if (!publicLogin) pop3Password = apiKey

  if (pop3Sessions > 0) await pop3Bench(pid)
  for (const connections of smtpConnectionCounts) await smtpBench(connections)
  const atEnd = memory(pid)
  console.log(`RSS at end: ${mb(atEnd.rss)} (high-water mark since bridge start: ${mb(atEnd.hwm)})`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
