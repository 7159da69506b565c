#!/usr/bin/env node
// Live feed latency: websocket subscribers on /incoming-messages, mail ingested through
// POST /internal/ingest, and the time from each ingest acknowledgement to the frame's arrival.
//
//   node bench/realtime.mjs [--url http://127.0.0.1:8787] [--subscribers 100] [--messages 1000]
//                           [--accounts 10] [--concurrency 8]
//
// Needs the local stack (`npm start`) and ADMIN_TOKEN / INGEST_TOKEN from the environment or
// .dev.vars. Creates `--accounts` accounts, spreads the subscribers over them (one private
// address with enablews per subscriber, so one hub per account), then sends the messages
// round-robin over the addresses, each to exactly one subscriber.
//
// Node 20 has no stable global WebSocket: the `ws` package (installed with wrangler) is used
// when it is missing; Node 22+ uses the built-in client.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values: options } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BENCH_URL ?? 'http://127.0.0.1:8787' },
    subscribers: { type: 'string', default: '100' },
    messages: { type: 'string', default: '1000' },
    accounts: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
  },
})
const base = options.url.replace(/\/$/, '')
const subscribers = Number(options.subscribers)
const total = Number(options.messages)
const accountCount = Math.min(Number(options.accounts), subscribers)
const concurrency = Number(options.concurrency)

function devVar(name) {
  if (process.env[name]) return process.env[name]
  try {
    const line = readFileSync(new URL('../.dev.vars', import.meta.url), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}=`))
    return line
      ?.slice(name.length + 1)
      .trim()
      .replace(/^"|"$/g, '')
  } catch {
    return undefined
  }
}

const ADMIN_TOKEN = devVar('ADMIN_TOKEN')
const INGEST_TOKEN = devVar('INGEST_TOKEN')
if (!ADMIN_TOKEN || !INGEST_TOKEN) {
  console.error('ADMIN_TOKEN and INGEST_TOKEN are needed (environment or .dev.vars).')
  process.exit(1)
}

const WebSocketClient = globalThis.WebSocket ?? (await import('ws')).default

async function request(path, init = {}, expected = 200) {
  const response = await fetch(`${base}${path}`, init)
  const text = await response.text()
  if (response.status !== expected) {
    throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`)
  }
  return text ? JSON.parse(text) : null
}

const run = Date.now().toString(36)
const domain = `rt-bench-${run}.test`

// Accounts, addresses (enablews on), one per subscriber.
const subscriptions = []
for (let a = 0; a < accountCount; a++) {
  const account = await request('/internal/admin/accounts', {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: `rtbench${run}${a}`, privateAddressCredits: subscribers }),
  })
  const headers = { 'Mailsac-Key': account.apiKey, 'Content-Type': 'application/json' }
  const mine = []
  for (let s = a; s < subscribers; s += accountCount) mine.push(`sub${s}@${domain}`)
  await request('/api/private-addresses-bulk', {
    method: 'POST',
    headers,
    body: JSON.stringify({ addresses: mine }),
  })
  await Promise.all(
    mine.map((address) =>
      request(`/api/addresses/${address}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ enablews: true }),
      }),
    ),
  )
  for (const address of mine) subscriptions.push({ account, address })
}

// Subscribers.
const timings = new Map() // subject -> { sent, ack, frame }
let frames = 0
const wsBase = base.replace(/^http/, 'ws')
const sockets = await Promise.all(
  subscriptions.map(
    ({ account, address }) =>
      new Promise((resolve, reject) => {
        const query = new URLSearchParams({
          _id: account._id,
          key: account.apiKey,
          addresses: address,
        })
        const socket = new WebSocketClient(`${wsBase}/incoming-messages?${query}`)
        socket.addEventListener('message', (event) => {
          const frame = JSON.parse(String(event.data))
          if (frame.msg === 'Listening') return resolve(socket)
          if (frame.status !== 200) return reject(new Error(`${address}: ${frame.message}`))
          if (!frame.email) return
          const timing = timings.get(frame.email.subject)
          if (timing && timing.frame === undefined) {
            timing.frame = performance.now()
            frames++
          }
        })
        socket.addEventListener('error', () => reject(new Error(`${address}: socket error`)))
      }),
  ),
)
console.log(`${sockets.length} subscribers listening on ${accountCount} account hubs`)

// Ingest.
let next = 0
const started = performance.now()
async function worker() {
  while (next < total) {
    const n = next++
    const { address } = subscriptions[n % subscriptions.length]
    const subject = `rt-bench ${run} #${n}`
    const raw = [
      'From: Bench <bench@example.org>',
      `To: ${address}`,
      `Subject: ${subject}`,
      `Message-ID: <${run}.${n}@example.org>`,
      '',
      `Message ${n}`,
      '',
    ].join('\r\n')
    const timing = { sent: performance.now() }
    timings.set(subject, timing)
    const query = new URLSearchParams({ from: 'bench@example.org', to: address })
    await request(`/internal/ingest?${query}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${INGEST_TOKEN}` },
      body: raw,
    })
    timing.ack = performance.now()
  }
}
await Promise.all(Array.from({ length: concurrency }, worker))
const ingestSeconds = (performance.now() - started) / 1000

// Wait for stragglers, at most 10 seconds.
const deadline = Date.now() + 10_000
while (frames < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
for (const socket of sockets) socket.close()

const all = [...timings.values()]
const arrived = all.filter((t) => t.frame !== undefined)
function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] }
}
const fmt = (ms) => `${ms.toFixed(1)} ms`
const line = (label, values) => {
  if (values.length === 0) return console.log(`${label}: no data`)
  const p = percentiles(values)
  console.log(
    `${label}: p50 ${fmt(p.p50)}  p90 ${fmt(p.p90)}  p99 ${fmt(p.p99)}  max ${fmt(p.max)}`,
  )
}
console.log(
  `${total} messages ingested in ${ingestSeconds.toFixed(1)} s (${(total / ingestSeconds).toFixed(0)}/s, concurrency ${concurrency}); ${arrived.length} frames arrived`,
)
// Negative values mean the frame beat the HTTP acknowledgement back to this process.
line(
  'ack -> frame ',
  arrived.map((t) => t.frame - t.ack),
)
line(
  'send -> frame',
  arrived.map((t) => t.frame - t.sent),
)
line(
  'send -> ack  ',
  all.map((t) => t.ack - t.sent),
)
if (arrived.length < total) {
  console.log(
    `${total - arrived.length} frames missing: is notifyStored wired into ingest on this Worker?`,
  )
  process.exitCode = 1
}
