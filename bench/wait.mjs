// Wait benchmark, against a running `npm start` stack:
//
//   node bench/wait.mjs
//
// Two figures, side by side in one run (#17 "the wait returns within 200 ms of the ingest
// acknowledgement"): 1 waiter (ONE_ROUNDS rounds, 20) and WAITERS (100) at once, each on its own
// inbox (ROUNDS rounds, 5). Each round holds the GET /api/addresses/:email/wait requests, then
// ingests one message per inbox through /internal/ingest; printed: p50/p99/max of ingest
// acknowledgement -> wait response. Settings: BRIDGE_API_URL (http://127.0.0.1:8787),
// INGEST_TOKEN (else read from .dev.vars), WAITERS, ROUNDS, ONE_ROUNDS, SAME_INBOX (1: the
// many waiters on one inbox). Other processes on the machine skew every figure, so the load
// average is printed too.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const devVars = Object.fromEntries(
  (() => {
    try {
      return readFileSync(`${root}.dev.vars`, 'utf8')
        .split('\n')
        .map((line) => /^(\w+)\s*=\s*"?([^"]*)"?$/.exec(line.trim()))
        .filter(Boolean)
        .map((match) => [match[1], match[2]])
    } catch {
      return []
    }
  })(),
)
const apiUrl = process.env.BRIDGE_API_URL ?? 'http://127.0.0.1:8787'
const ingestToken = process.env.INGEST_TOKEN ?? devVars.INGEST_TOKEN
const manyWaiters = Number(process.env.WAITERS ?? 100)
const manyRounds = Number(process.env.ROUNDS ?? 5)
const oneRounds = Number(process.env.ONE_ROUNDS ?? 20)
const sameInbox = process.env.SAME_INBOX === '1'

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

async function ingest(to) {
  const raw = [
    'From: Bench <bench@example.org>',
    `To: ${to}`,
    'Subject: Your code',
    `Message-ID: <${randomBytes(6).toString('hex')}@example.org>`,
    '',
    'Your verification code is 482913.',
    '',
  ].join('\r\n')
  const response = await fetch(`${apiUrl}/internal/ingest?from=bench@example.org&to=${to}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestToken}` },
    body: raw,
  })
  if (!response.ok) throw new Error(`ingest ${response.status}: ${await response.text()}`)
  return performance.now()
}

async function round(waiters) {
  const run = randomBytes(4).toString('hex')
  const inboxes = Array.from({ length: waiters }, (_, i) =>
    sameInbox ? `wait-bench-${run}@example.com` : `wait-bench-${run}-${i}@example.com`,
  )
  const since = Date.now()
  const answered = inboxes.map(async (inbox) => {
    const response = await fetch(`${apiUrl}/api/addresses/${inbox}/wait?since=${since}&timeout=60`)
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`wait ${response.status}`)
    return performance.now()
  })
  // The waiters register before their first D1 read; give them a moment to be held.
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const targets = sameInbox ? [inboxes[0]] : inboxes
  const acks = await Promise.all(targets.map(ingest))
  const done = await Promise.all(answered)
  return done.map((time, i) => time - acks[sameInbox ? 0 : i])
}

const ms = (value) => `${value.toFixed(1)} ms`
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')

async function measure(waiters, rounds) {
  const latencies = []
  for (let i = 0; i < rounds; i++) latencies.push(...(await round(waiters)))
  latencies.sort((a, b) => a - b)
  const many = waiters > 1 && sameInbox ? ' on one inbox' : ', one inbox each'
  console.log(
    `wait: ${waiters} concurrent waiter${waiters > 1 ? 's' : ''}${many}, ${rounds} rounds: ` +
      `ingest ack -> wait response p50 ${ms(percentile(latencies, 0.5))}, ` +
      `p99 ${ms(percentile(latencies, 0.99))}, max ${ms(latencies.at(-1))} (load average ${load()})`,
  )
}

console.log(`load average before: ${load()}`)
await measure(1, oneRounds)
await measure(manyWaiters, manyRounds)
