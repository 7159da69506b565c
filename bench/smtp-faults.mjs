// SMTP ingest while the Worker dies and comes back: does any message answered 250 go missing
// or get stored twice, and is any message answered 4xx stored more than once?
//
//   node bench/smtp-faults.mjs
//
// Starts its own wrangler dev (local D1/R2 in a temp dir) and bridge, then sends SMTP_MESSAGES
// (2000) over SMTP_CONNECTIONS (20) sessions while the Worker is stopped and restarted RESTARTS
// (3) times, DOWN_MS (3000) down each time. No message is retried: a 4xx stays a 4xx, and its
// session waits BACKOFF_MS (500) before the next message. Then it
// lists every inbox over REST and prints, per reply, how many copies were stored. Exits 1 if a
// 250 was lost or doubled, or a 4xx stored twice. Traffic stays on 127.0.0.1.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyMigrations, freePort, startBridge, startWorker } from '../bridge/test/stack.js'

const messages = Number(process.env.SMTP_MESSAGES ?? 2000)
const connections = Number(process.env.SMTP_CONNECTIONS ?? 20)
const restarts = Number(process.env.RESTARTS ?? 3)
const downMs = Number(process.env.DOWN_MS ?? 3000)
const backoffMs = Number(process.env.BACKOFF_MS ?? 500)
const domain = 'faults.example'
const run = randomBytes(3).toString('hex')

const dir = mkdtempSync(join(tmpdir(), 'smtp-faults-'))
const persistTo = join(dir, 'state')
const adminToken = randomBytes(24).toString('hex')
const ingestToken = randomBytes(24).toString('hex')
const workerPort = await freePort()
const smtpPort = await freePort()
const workerOptions = {
  persistTo,
  port: workerPort,
  adminToken,
  ingestToken,
  acceptedDomains: domain,
}

/** One SMTP session that sends its share of the messages, one transaction after another. */
async function sender(index, count, replies) {
  const inbox = `faults-${run}-${index}@${domain}`
  let socket = null
  let buffer = ''
  let wake = null
  const reply = async () => {
    for (;;) {
      const match = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer)
      if (match) {
        buffer = buffer.slice(match.index + match[0].length)
        return Number(match[1])
      }
      if (!socket || socket.destroyed) return 0
      await new Promise((resolve) => {
        wake = resolve
        setTimeout(resolve, 30_000)
      })
    }
  }
  const connect = async () => {
    socket = net.connect(smtpPort, '127.0.0.1')
    buffer = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk) => {
      buffer += chunk
      wake?.()
    })
    socket.on('close', () => wake?.())
    socket.on('error', () => {})
    await once(socket, 'connect')
    await reply()
    socket.write('EHLO faults.example\r\n')
    await reply()
  }
  for (let i = 0; i < count; i++) {
    const subject = `fault-${run}-${index}-${i}`
    if (!socket || socket.destroyed) await connect()
    socket.write(`MAIL FROM:<bench@${domain}>\r\nRCPT TO:<${inbox}>\r\nDATA\r\n`)
    const codes = [await reply(), await reply(), await reply()]
    if (codes[2] !== 354) {
      replies.set(subject, { inbox, code: codes.find((code) => code !== 250) ?? 0 })
      socket.write('RSET\r\n')
      await reply()
      continue
    }
    socket.write(`Subject: ${subject}\r\nMessage-ID: <${subject}@${domain}>\r\n\r\nbody\r\n.\r\n`)
    const code = await reply()
    replies.set(subject, { inbox, code })
    // A sender backs off after a temporary failure, so the run spans the Worker's downtimes.
    if (code >= 400 && code < 500) await new Promise((resolve) => setTimeout(resolve, backoffMs))
  }
  socket?.end('QUIT\r\n')
  return inbox
}

/** Stops and restarts the Worker `restarts` times while the senders run. */
async function chaos(state, done) {
  for (let i = 0; i < restarts && !done.value; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2000))
    await state.worker.stop()
    await new Promise((resolve) => setTimeout(resolve, downMs))
    state.worker = await startWorker({ ...workerOptions, logFile: join(dir, `wrangler-${i}.log`) })
    state.restarts++
    console.log(`worker restarted (${i + 1}/${restarts})`)
  }
}

/** @returns {Promise<Map<string, number>>} copies stored per subject */
async function storedCopies(inboxes, apiKey) {
  const copies = new Map()
  for (const inbox of inboxes) {
    const response = await fetch(
      `http://127.0.0.1:${workerPort}/api/addresses/${inbox}/messages?limit=1000`,
      { headers: { 'Mailsac-Key': apiKey } },
    )
    if (!response.ok) throw new Error(`list ${inbox}: ${response.status}`)
    for (const message of await response.json()) {
      copies.set(message.subject, (copies.get(message.subject) ?? 0) + 1)
    }
  }
  return copies
}

applyMigrations(persistTo)
const state = {
  restarts: 0,
  worker: await startWorker({ ...workerOptions, logFile: join(dir, 'wrangler.log') }),
}
const bridge = await startBridge(
  {
    BRIDGE_API_URL: `http://127.0.0.1:${workerPort}`,
    INGEST_TOKEN: ingestToken,
    SMTP_PORT: String(smtpPort),
    POP3_PORT: String(await freePort()),
    WORKER_TIMEOUT_MS: '3000',
  },
  join(dir, 'bridge.log'),
)
try {
  const replies = new Map()
  const done = { value: false }
  const started = Date.now()
  const chaosDone = chaos(state, done)
  const per = Math.ceil(messages / connections)
  const inboxes = await Promise.all(
    Array.from({ length: connections }, (_, i) =>
      sender(i, Math.min(per, messages - i * per), replies),
    ),
  )
  done.value = true
  await chaosDone
  const seconds = (Date.now() - started) / 1000

  const account = await fetch(`http://127.0.0.1:${workerPort}/internal/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: `faults-${run}` }),
  }).then((response) => response.json())
  const copies = await storedCopies(inboxes, account.apiKey)

  const tally = { ok: [0, 0, 0], temporary: [0, 0, 0], other: [0, 0, 0] }
  for (const [subject, { code }] of replies) {
    const kind = code === 250 ? 'ok' : code >= 400 && code < 500 ? 'temporary' : 'other'
    tally[kind][Math.min(copies.get(subject) ?? 0, 2)]++
  }
  const row = (name, [none, once, more]) =>
    console.log(
      `${name.padEnd(22)} ${String(none + once + more).padStart(6)}  stored 0: ${none}  1: ${once}  2+: ${more}`,
    )
  console.log(
    `${replies.size} messages in ${seconds.toFixed(1)} s, ${state.restarts} Worker restarts`,
  )
  row('answered 250', tally.ok)
  row('answered 4xx', tally.temporary)
  row('other (5xx, no reply)', tally.other)
  const bad = tally.ok[0] + tally.ok[2] + tally.temporary[2]
  console.log(bad ? `FAIL: ${bad} messages lost or doubled` : 'OK: nothing lost, nothing doubled')
  process.exitCode = bad ? 1 : 0
} finally {
  await bridge.stop()
  await state.worker.stop()
  if (!process.env.KEEP_DIR) rmSync(dir, { recursive: true, force: true })
}
