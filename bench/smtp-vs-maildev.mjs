// SMTP ingest side by side with MailDev (#18): the same messages through the same client, until
// every one is visible through each tool's own REST API.
//
//   node bench/smtp-vs-maildev.mjs
//
// Starts MailDev (npm devDependency, in-memory) and our stack (wrangler dev with local D1/R2 in
// a temp dir, plus the bridge) as child processes, then for each connection count in
// SMTP_CONNECTIONS (8,50,100) sends SMTP_MESSAGES (2000) messages of about MESSAGE_BYTES (1500)
// through nodemailer's pooled transport to MailDev, then to ours, and prints msg/s from the
// first send until the last message shows in the REST API (MailDev's /api/email/summary, our
// /api/addresses/:email/message-count), the ratio, and the 1-minute load average after each
// run: other processes on the machine skew every figure. Under each figure it prints the CPU
// milliseconds per message each process spent (from /proc, by role: MailDev; workerd, the
// wrangler node process and esbuild for the Worker; the bridge; this process as the client):
// on a machine with few cores the sum, not the waiting, decides the rate at 100 connections.
// Traffic stays on 127.0.0.1.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import nodemailer from 'nodemailer'
import {
  applyMigrations,
  freePort,
  startBridge,
  startWorker,
  waitFor,
} from '../bridge/test/stack.js'

const messages = Number(process.env.SMTP_MESSAGES ?? 2000)
const connectionCounts = (process.env.SMTP_CONNECTIONS ?? '8,50,100').split(',').map(Number)
const messageBytes = Number(process.env.MESSAGE_BYTES ?? 1500)
// Below the public inbox cap (100), so recycling never hides a message from the count.
const perInbox = 50
const host = '127.0.0.1'
const domain = 'vs-maildev.example'
const run = randomBytes(3).toString('hex')
const root = fileURLToPath(new URL('..', import.meta.url))

const dir = mkdtempSync(join(tmpdir(), 'smtp-vs-maildev-'))
const adminToken = randomBytes(24).toString('hex')
const ingestToken = randomBytes(24).toString('hex')

const load = () => `load ${loadavg()[0].toFixed(2)}`
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// CPU per role, from /proc (Linux): every process descending from this one, by what it runs.
// The client's share is this process itself (nodemailer; the REST polling is a small part).
const ROLES = [
  ['MailDev', /maildev\.js/],
  ['workerd', /workerd/],
  ['wrangler (node)', /wrangler-dist/],
  ['bridge', /bridge\/src\/index\.js/],
  ['esbuild', /esbuild/],
]
const TICKS_PER_SECOND = 100

/** CPU seconds used so far by each role (processes still running). */
function cpuByRole() {
  /** @type {Map<number, { ppid: number, seconds: number, cmd: string }>} */
  const processes = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      processes.set(Number(entry), {
        ppid: Number(fields[1]),
        seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
        cmd,
      })
    } catch {
      // gone between the listing and the read
    }
  }
  const descends = (pid) => {
    for (let at = pid; at > 1; at = processes.get(at)?.ppid ?? 0)
      if (at === process.pid) return true
    return false
  }
  const used = Object.fromEntries(ROLES.map(([name]) => [name, 0]))
  for (const [pid, { seconds, cmd }] of processes) {
    if (pid === process.pid || !descends(pid)) continue
    const role = ROLES.find(([, pattern]) => pattern.test(cmd))
    if (role) used[role[0]] += seconds
  }
  const self = process.cpuUsage()
  used.client = (self.user + self.system) / 1e6
  return used
}

/** CPU ms per message by role between two `cpuByRole()` snapshots, roles that used any. */
function cpuPerMessage(before, after) {
  return Object.keys(after)
    .map((role) => [role, ((after[role] - before[role]) * 1000) / messages])
    .filter(([, ms]) => ms >= 0.05)
    .map(([role, ms]) => `${role} ${ms.toFixed(2)}`)
    .join(', ')
}

async function startMailDev() {
  const smtp = await freePort()
  const web = await freePort()
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules/maildev/dist/bin/maildev.js'),
      '--smtp',
      String(smtp),
      '--web',
      String(web),
      '--ip',
      host,
      '--web-ip',
      host,
      '--silent',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const api = `http://${host}:${web}/api`
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`maildev exited (${child.exitCode})`)
    return (await fetch(`${api}/healthz`)).ok
  }, 60_000)
  return {
    smtp,
    visible: async () => {
      const response = await fetch(`${api}/email/summary?limit=1`)
      return (await response.json()).total
    },
    clear: async () => void (await fetch(`${api}/email/all`, { method: 'DELETE' })),
    stop: async () => {
      child.kill('SIGTERM')
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}

async function startOurs() {
  const persistTo = join(dir, 'state')
  applyMigrations(persistTo)
  const worker = await startWorker({
    persistTo,
    port: await freePort(),
    adminToken,
    ingestToken,
    acceptedDomains: domain,
    logFile: join(dir, 'wrangler.log'),
  })
  const smtp = await freePort()
  const bridge = await startBridge(
    {
      BRIDGE_API_URL: worker.url,
      INGEST_TOKEN: ingestToken,
      SMTP_PORT: String(smtp),
      POP3_PORT: String(await freePort()),
    },
    join(dir, 'bridge.log'),
  )
  // Public inboxes read with an account key: anonymous reads share one per-IP rate limit.
  const account = await fetch(`${worker.url}/internal/admin/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: `vs-${run}` }),
  }).then((response) => response.json())
  return {
    smtp,
    /** @param {string[]} inboxes */
    visible: async (inboxes) => {
      const counts = await Promise.all(
        inboxes.map(async (inbox) => {
          const response = await fetch(`${worker.url}/api/addresses/${inbox}/message-count`, {
            headers: { 'Mailsac-Key': account.apiKey },
          })
          if (!response.ok) throw new Error(`message-count ${inbox}: ${response.status}`)
          return (await response.json()).count
        }),
      )
      return counts.reduce((sum, count) => sum + count, 0)
    },
    stop: async () => {
      await bridge.stop()
      await worker.stop()
    },
  }
}

const body = 'x'
  .repeat(74)
  .concat('\r\n')
  .repeat(Math.ceil(messageBytes / 76))

/**
 * Sends `messages` through a nodemailer pool of `connections` to `port`, then waits until
 * `visible()` counts them all; resolves with msg/s from the first send.
 */
async function measure(port, connections, inboxes, visible) {
  const transport = nodemailer.createTransport({
    pool: true,
    host,
    port,
    maxConnections: connections,
    maxMessages: Infinity,
    ignoreTLS: true,
  })
  const started = performance.now()
  await Promise.all(
    Array.from({ length: messages }, (_, i) =>
      transport.sendMail({
        from: `bench@${domain}`,
        to: inboxes[i % inboxes.length],
        subject: `vs maildev ${run} ${connections} ${i}`,
        text: body,
      }),
    ),
  )
  const accepted = (performance.now() - started) / 1000
  transport.close()
  while ((await visible(inboxes)) < messages) await sleep(50)
  const seconds = (performance.now() - started) / 1000
  return { rate: messages / seconds, accepted: messages / accepted }
}

const maildev = await startMailDev()
const ours = await startOurs()
try {
  console.log(`${messages} messages of ~${messageBytes} bytes per run, nodemailer pool`)
  const rows = []
  for (const connections of connectionCounts) {
    const inboxes = Array.from(
      { length: Math.ceil(messages / perInbox) },
      (_, i) => `vs-${run}-${connections}-${i}@${domain}`,
    )
    await maildev.clear()
    let cpu = cpuByRole()
    const theirs = await measure(maildev.smtp, connections, inboxes, maildev.visible)
    const theirCpu = cpuPerMessage(cpu, (cpu = cpuByRole()))
    const theirLoad = load()
    console.log(
      `${String(connections).padStart(3)} connections  MailDev ${theirs.rate.toFixed(0)} msg/s ` +
        `(250s at ${theirs.accepted.toFixed(0)} msg/s) ${theirLoad}\n` +
        `     CPU ms per message: ${theirCpu}`,
    )
    const mine = await measure(ours.smtp, connections, inboxes, ours.visible)
    const myCpu = cpuPerMessage(cpu, cpuByRole())
    const myLoad = load()
    console.log(
      `${String(connections).padStart(3)} connections  ours    ${mine.rate.toFixed(0)} msg/s ` +
        `(250s at ${mine.accepted.toFixed(0)} msg/s) ${myLoad}  ratio ${(mine.rate / theirs.rate).toFixed(2)}\n` +
        `     CPU ms per message: ${myCpu}`,
    )
    rows.push({ connections, theirs, theirLoad, mine, myLoad })
  }
  console.log('\n| connections | MailDev msg/s | ours msg/s | ratio |')
  console.log('| --- | --- | --- | --- |')
  for (const { connections, theirs, theirLoad, mine, myLoad } of rows) {
    console.log(
      `| ${connections} | ${theirs.rate.toFixed(0)} (${theirLoad}) | ${mine.rate.toFixed(0)} (${myLoad}) | ${(mine.rate / theirs.rate).toFixed(2)} |`,
    )
  }
} finally {
  await ours.stop()
  await maildev.stop()
  if (!process.env.KEEP_DIR) rmSync(dir, { recursive: true, force: true })
}
