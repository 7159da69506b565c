// Memory of one 25 MiB ingest: does storing the largest accepted message fit Cloudflare's
// 128 MB per isolate (https://developers.cloudflare.com/workers/platform/limits/#memory)?
//
//   node bench/memory.mjs
//
// Starts its own wrangler dev (local D1/R2 in a temp dir), then for each kind (text/plain,
// text/html, one attachment, and the worst cases below; MEMORY_MIB (25) MiB each, at most
// MAX_MESSAGE_BYTES) posts one
// message to /internal/ingest (the email() simulation refuses more than 1 MiB) and prints
// workerd's peak RSS growth over its RSS before the request, next to the 128 MB limit, and
// the ingest time; KINDS picks some of them. Each kind gets a fresh Worker. The peak is VmHWM
// after a reset (clear_refs 5) and the highest VmRSS sampled every 20 ms, whichever is higher.
// workerd's RSS also holds the HTTP buffers and the local D1/R2 simulators (which receive the
// R2 writes), so it is an upper bound of the isolate's own memory; `unread` shows what the
// local stack costs for a 26 MiB request the Worker refuses (413) before reading a byte,
// `refused` what reading the request adds. Linux only.
//
// Every wrangler/workerd it starts is stopped on every way out: a normal end, an exception, an
// unhandled rejection, SIGINT/SIGTERM/SIGHUP and its own deadline (MEMORY_TIMEOUT_S, 300 s): wrangler
// runs in a process group of its own and the whole group gets SIGKILL, then the script checks
// /proc that no process of that group is left. An orphaned workerd keeps a core busy for
// everyone sharing the machine.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const wranglerBin = join(repoRoot, 'node_modules', '.bin', 'wrangler')
const deadlineMs = Number(process.env.MEMORY_TIMEOUT_S ?? 300) * 1000

const MAX_MESSAGE_BYTES = 25 * 1024 * 1024
const ISOLATE_LIMIT_MB = 128
const targetBytes = Math.min(Number(process.env.MEMORY_MIB ?? 25) * 1024 * 1024, MAX_MESSAGE_BYTES)
const domain = 'memory.example'
// `refused`: a 25 MiB text/plain message to a domain not accepted, refused (403) once its body
// is read: the floor every kind shares (the request body, and what the local stack adds).
// `unread`: a body over the limit, answered 413 from its Content-Length alone.
// `<kind> form`: posted as multipart/form-data with the envelope, as the SMTP bridge does.
// `text parts`, `attachments`, `7bit attachment`: see message().
const kinds = (
  process.env.KINDS ??
  'unread,refused,text/plain,text/html,attachment,text/plain form,attachment form,text parts,attachments,7bit attachment'
).split(',')

const dir = mkdtempSync(join(tmpdir(), 'memory-bench-'))
const persistTo = join(dir, 'state')
const adminToken = randomBytes(24).toString('hex')
const ingestToken = randomBytes(24).toString('hex')

/** Process groups of the wranglers this script started and has not seen gone. */
const groups = new Set()

/** The pids of every process in process group `pgid` (field 5 of /proc/<pid>/stat). */
function groupMembers(pgid) {
  return readdirSync('/proc').filter((name) => {
    if (!/^\d+$/.test(name)) return false
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid
    } catch {
      return false
    }
  })
}

/** SIGKILL to every group still listed; synchronous, so it also runs in an 'exit' handler. */
function killGroups() {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // the group is gone already
    }
  }
}

/** Kills the groups and waits (up to 5 s) until /proc shows none of their processes. */
async function stopAll() {
  killGroups()
  const until = Date.now() + 5000
  for (const pgid of groups) {
    while (groupMembers(pgid).length > 0 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const left = groupMembers(pgid)
    if (left.length > 0) console.error(`process group ${pgid} still has ${left.join(' ')}`)
    else groups.delete(pgid)
  }
}

process.on('exit', killGroups)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`${signal}: stopping wrangler`)
    killGroups()
    rmSync(dir, { recursive: true, force: true })
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0))
  })
}
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    console.error(event, error)
    killGroups()
    rmSync(dir, { recursive: true, force: true })
    process.exit(1)
  })
}
const deadline = setTimeout(() => {
  console.error(`gave up after ${deadlineMs / 1000} s (MEMORY_TIMEOUT_S)`)
  killGroups()
  rmSync(dir, { recursive: true, force: true })
  process.exit(124)
}, deadlineMs)

const wranglerEnv = () => ({ ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' })

/** A port nobody listens on right now. */
async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

function applyMigrations() {
  const result = spawnSync(
    wranglerBin,
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo],
    { cwd: repoRoot, env: wranglerEnv(), encoding: 'utf8' },
  )
  if (result.status !== 0) throw new Error(`migrations failed:\n${result.stdout}\n${result.stderr}`)
}

/** `wrangler dev` in a process group of its own (workerd inherits it), registered at once. */
async function startWorker() {
  const port = await freePort()
  const inspectorPort = await freePort()
  const child = spawn(
    wranglerBin,
    [
      'dev',
      ...['--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort)],
      ...['--persist-to', persistTo, '--var', `ADMIN_TOKEN:${adminToken}`],
      ...['--var', `INGEST_TOKEN:${ingestToken}`, '--var', `ACCEPTED_DOMAINS:${domain}`],
      ...['--show-interactive-dev-session=false', '--log-level', 'warn'],
    ],
    { cwd: repoRoot, env: wranglerEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  groups.add(child.pid)
  const log = createWriteStream(join(dir, 'wrangler.log'), { flags: 'a' })
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  const url = `http://127.0.0.1:${port}`
  const until = Date.now() + 180_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`)
    try {
      const response = await fetch(`${url}/api/addresses/probe@example.com/availability`)
      await response.body?.cancel()
      break
    } catch (error) {
      if (Date.now() > until) throw new Error(`wrangler dev did not answer: ${error.message}`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  return { url, stop: stopAll }
}

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from ' +
  'or one had by word but not what all were we when your can said there use an each which ' +
  'she do how their if will up other about out many then them these so some her would make ' +
  'like him into time has look two more write go see number no way could people my than ' +
  'first water been call who oil its now find long down day did get come made may part ' +
  'verification account password reset confirm subscription invoice receipt delivery'
).split(' ')

/** Prose lines of at most 998 characters (RFC 5322), with a link every few lines. */
function* proseLines(html) {
  let n = 0
  for (;;) {
    const words = []
    let length = 0
    const target = 60 + ((n * 7919) % 900)
    while (length < target) {
      const word = WORDS[(n * 31 + words.length * 17) % WORDS.length]
      words.push(word)
      length += word.length + 1
    }
    if (n % 5 === 0) {
      const url = `https://links.example.com/track/${n}?u=${(n * 2654435761) % 1e9}`
      words.splice(3, 0, html ? `<a href="${url}">open link ${n}</a>` : url)
    }
    if (n % 97 === 0) words.push(`code ${String(100000 + (n % 900000)).slice(0, 6)}`)
    n++
    yield html ? `<p>${words.join(' ')}</p>` : words.join(' ')
  }
}

function header(subject, contentType) {
  return (
    `From: Bench <bench@example.org>\r\nTo: <memory@${domain}>\r\nSubject: ${subject}\r\n` +
    `Message-ID: <${randomBytes(8).toString('hex')}@example.org>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: ${contentType}\r\n\r\n`
  )
}

/** A multipart/mixed message of `count` parts of about equal size, each from `part(i, bytes)`. */
function multipart(subject, count, part) {
  const boundary = 'b-memory-bench'
  const head = header(subject, `multipart/mixed; boundary="${boundary}"`)
  const tail = `\r\n--${boundary}--\r\n`
  const each = Math.floor((targetBytes - head.length - tail.length) / count) - 200
  const parts = Array.from({ length: count }, (_, i) => `--${boundary}\r\n${part(i, each)}`)
  return Buffer.from(head + parts.join('\r\n') + tail, 'latin1')
}

/** Base64 lines of 76 characters plus CRLF (57 bytes each), about `bytes` long. */
const base64Lines = (bytes) =>
  randomBytes(Math.floor(bytes / 78) * 57)
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n')
    .replace(/\r\n$/, '')

/** Prose lines, about `bytes` long. */
function prose(bytes, html = false) {
  const lines = []
  let size = 0
  for (const line of proseLines(html)) {
    if (size + line.length + 2 > bytes) break
    lines.push(line)
    size += line.length + 2
  }
  return lines.join('\r\n')
}

/** A message of `kind` of at most targetBytes. */
function message(kind) {
  // Worst cases the per-part caps alone would let through: many text bodies of just under
  // the text cut, many attachments of just under the set-aside size, one unencoded attachment.
  if (kind === 'text parts') {
    return multipart('many text parts', 12, (i, bytes) =>
      i % 2
        ? `Content-Type: text/html; charset=utf-8\r\n\r\n${prose(bytes, true)}`
        : `Content-Type: text/plain; charset=utf-8\r\n\r\n${prose(bytes)}`,
    )
  }
  if (kind === 'attachments') {
    return multipart(
      'many attachments',
      25,
      (i, bytes) =>
        `Content-Type: application/octet-stream; name="part${i}.bin"\r\n` +
        `Content-Disposition: attachment; filename="part${i}.bin"\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${base64Lines(bytes)}`,
    )
  }
  if (kind === '7bit attachment') {
    return multipart(
      'one unencoded attachment',
      1,
      (i, bytes) =>
        `Content-Type: text/csv; name="data.csv"\r\n` +
        `Content-Disposition: attachment; filename="data.csv"\r\n\r\n${prose(bytes)}`,
    )
  }
  if (kind === 'attachment') {
    const boundary = 'b-memory-bench'
    const head =
      header('one attachment', `multipart/mixed; boundary="${boundary}"`) +
      `--${boundary}\r\nContent-Type: text/plain\r\n\r\nThe file is attached.\r\n` +
      `--${boundary}\r\nContent-Type: application/octet-stream; name="data.bin"\r\n` +
      `Content-Disposition: attachment; filename="data.bin"\r\n` +
      `Content-Transfer-Encoding: base64\r\n\r\n`
    const tail = `\r\n--${boundary}--\r\n`
    // base64 lines of 76 characters plus CRLF carry 57 bytes each.
    const lines = Math.floor((targetBytes - head.length - tail.length) / 78)
    const base64 = randomBytes(lines * 57)
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n')
      .replace(/\r\n$/, '')
    return Buffer.from(head + base64 + tail, 'latin1')
  }
  const html = kind === 'text/html'
  const head = header(`${kind} body`, `${kind}; charset=utf-8`)
  const parts = [html ? `${head}<html><body>\r\n` : head]
  let size = parts[0].length
  const end = html ? '</body></html>\r\n' : ''
  for (const line of proseLines(html)) {
    if (size + line.length + 2 + end.length > targetBytes) break
    parts.push(line, '\r\n')
    size += line.length + 2
  }
  parts.push(end)
  return Buffer.from(parts.join(''), 'utf8')
}

/** The Worker's workerd: under the wrangler started with our persist dir. */
function findWorkerd() {
  const procs = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        return { pid, ppid, cmdline }
      } catch {
        return null
      }
    })
    .filter(Boolean)
  const byPid = new Map(procs.map((p) => [p.pid, p]))
  const oursUp = (p) => {
    for (let q = p; q; q = byPid.get(q.ppid)) if (q.cmdline.includes(persistTo)) return true
    return false
  }
  const found = procs.filter((p) => /workerd/.test(p.cmdline.split('\0')[0]) && oursUp(p))
  // wrangler runs two: its proxy in front, and the runtime of the Worker (the one with the
  // inspector), whose isolate is the one limited.
  const runtime = found.find((p) => p.cmdline.includes('--inspector-addr'))
  if (!runtime) throw new Error(`workerd with an inspector not found among ${found.length}`)
  return runtime.pid
}

const statusKb = (pid, field) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])

/** Posts a message; `form` sends it as the bridge does, multipart with the envelope. */
async function ingest(url, raw, to = `memory@${domain}`, form = false) {
  const envelope = { from: 'bench@example.org', to: [to] }
  let body = raw
  if (form) {
    body = new FormData()
    body.append('envelope', JSON.stringify(envelope))
    body.append('message', new Blob([raw], { type: 'message/rfc822' }), 'message.eml')
  }
  const query = form ? '' : `?from=${envelope.from}&to=${to}`
  const response = await fetch(`${url}/internal/ingest${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ingestToken}`,
      ...(form ? {} : { 'content-type': 'message/rfc822' }),
    },
    body,
  })
  const text = await response.text()
  if (response.status === 403 || response.status === 413) return null
  if (!response.ok) throw new Error(`ingest answered ${response.status}: ${text}`)
  return JSON.parse(text).messages[0]._id
}

applyMigrations()
const rows = []
const loadBefore = loadavg()
const load = (averages) => averages.map((n) => n.toFixed(2)).join(' ')
try {
  for (const kind of kinds) {
    // A fresh Worker per kind: V8 keeps the heap an earlier message grew, which would hide
    // part of the next one's growth.
    const worker = await startWorker()
    try {
      const pid = findWorkerd()
      // A small message first, so module loading and first compiles are not counted.
      await ingest(worker.url, Buffer.from(header('warm-up', 'text/plain') + 'hello\r\n'))
      const base = kind.replace(/ form$/, '')
      const raw =
        base === 'unread'
          ? Buffer.concat([message('text/plain'), Buffer.alloc(1024 * 1024, 0x61)])
          : message(base === 'refused' ? 'text/plain' : base)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      writeFileSync(`/proc/${pid}/clear_refs`, '5')
      const before = statusKb(pid, 'VmRSS')
      let sampled = before
      const sampler = setInterval(() => (sampled = Math.max(sampled, statusKb(pid, 'VmRSS'))), 20)
      const started = performance.now()
      const to = base === 'refused' ? 'x@refused.example' : undefined
      // The sampler stops before any error of the ingest is reported: once the Worker is
      // stopped its pid has no status, and a failing sample would hide that error.
      const id = await ingest(worker.url, raw, to, kind.endsWith(' form')).finally(() =>
        clearInterval(sampler),
      )
      const ms = performance.now() - started
      const peak = Math.max(sampled, statusKb(pid, 'VmHWM'))
      const full = id
        ? await (await fetch(`${worker.url}/api/addresses/memory@${domain}/messages/${id}`)).json()
        : {}
      rows.push({
        kind,
        bytes: raw.byteLength,
        growthMb: (peak - before) / 1024,
        ms,
        text: full.text?.length ?? 0,
        html: full.html?.length ?? 0,
        truncated: JSON.stringify(full.truncated ?? null),
      })
    } finally {
      await worker.stop()
    }
  }
} finally {
  await stopAll()
  clearTimeout(deadline)
  rmSync(dir, { recursive: true, force: true })
}

console.log(`load average before ${load(loadBefore)}`)
console.log(
  'kind          message bytes  peak RSS growth  limit   ingest ms  stored text/html chars  truncated',
)
for (const row of rows) {
  console.log(
    [
      row.kind.padEnd(16),
      String(row.bytes).padStart(14),
      `${row.growthMb.toFixed(0)} MB`.padStart(16),
      `${ISOLATE_LIMIT_MB} MB`.padStart(7),
      row.ms.toFixed(0).padStart(10),
      `${row.text}/${row.html}`.padStart(23),
      ` ${row.truncated}`,
    ].join(' '),
  )
}
console.log(`load average after ${load(loadavg())}`)
