// Ingest and list benchmark against a running local stack (`npm start`).
//   node bench/ingest.mjs [--messages 4000] [--batch 25] [--concurrency 4] [--fill 10000] [--samples 300]
// Prints ingest messages/second through POST /internal/ingest, one message per request and
// batched through POST /internal/ingest/batch as the SMTP bridge does (every message is
// acknowledged only once it is durable in D1 and R2), then the p50/p99 latency of
// GET /api/addresses/:email/messages on an inbox holding --fill messages.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BENCH_URL ?? 'http://127.0.0.1:8787' },
    messages: { type: 'string', default: '4000' },
    batch: { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '4' },
    fill: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '300' },
  },
})
const base = values.url
const devVars = readFileSync('.dev.vars', 'utf8')
const token = process.env.INGEST_TOKEN ?? /^INGEST_TOKEN=(.*)$/m.exec(devVars)?.[1]
const adminToken = process.env.ADMIN_TOKEN ?? /^ADMIN_TOKEN=(.*)$/m.exec(devVars)?.[1]
const run = Date.now().toString(36)

function message(i, to) {
  return [
    'From: Bench <bench@example.org>',
    `To: ${to}`,
    `Subject: bench message ${i}`,
    `Message-ID: <${run}.${i}@bench.example.org>`,
    'Date: Wed, 25 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello number ${i}. `.repeat(20),
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Hello <b>number ${i}</b></p>`.repeat(20),
    '--b--',
    '',
  ].join('\r\n')
}

async function ingest(i, to) {
  const response = await fetch(`${base}/internal/ingest?from=bench@example.org&to=${to}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: message(i, to),
  })
  if (!response.ok) throw new Error(`ingest ${i}: ${response.status} ${await response.text()}`)
  await response.arrayBuffer()
}

/** Posts messages first..first+count-1 in one /internal/ingest/batch request. */
async function ingestBatch(first, count, to) {
  const form = new FormData()
  for (let i = first; i < first + count; i++) {
    form.append('envelope', JSON.stringify({ from: 'bench@example.org', to: [to(i)] }))
    form.append('message', new Blob([message(i, to(i))]), `${i}.eml`)
  }
  const response = await fetch(`${base}/internal/ingest/batch`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  })
  if (!response.ok)
    throw new Error(`batch at ${first}: ${response.status} ${await response.text()}`)
  const { results } = await response.json()
  const refused = results.find((result) => !result.messages)
  if (refused) throw new Error(`batch at ${first}: ${JSON.stringify(refused)}`)
}

async function pool(count, concurrency, task) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++)
    }),
  )
}

/** Ingests `count` messages in batches of `size`, `concurrency` requests in flight. */
async function batched(count, size, concurrency, to) {
  const batches = Math.ceil(count / size)
  await pool(batches, concurrency, (b) =>
    ingestBatch(b * size, Math.min(size, count - b * size), to),
  )
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

// 1. Ingest throughput, spread over many inboxes as real traffic is.
const messages = Number(values.messages)
const size = Number(values.batch)
const concurrency = Number(values.concurrency)
const spread = (i) => `bench-${run}-${i % 100}@example.com`
const single = Math.min(messages, 1000)
let started = performance.now()
await pool(single, 16, (i) => ingest(i, spread(i)))
let seconds = (performance.now() - started) / 1000
console.log(
  `ingest, one message per request: ${single} messages in ${seconds.toFixed(2)} s = ${(single / seconds).toFixed(0)} messages/s (16 in flight)`,
)
started = performance.now()
await batched(messages, size, concurrency, spread)
seconds = (performance.now() - started) / 1000
console.log(
  `ingest, batches of ${size}: ${messages} messages in ${seconds.toFixed(2)} s = ${(messages / seconds).toFixed(0)} messages/s (${concurrency} batches in flight)`,
)

// 2. List latency on one inbox holding --fill messages.
const inbox = `bench-big-${run}@example.com`
const fill = Number(values.fill)
started = performance.now()
await batched(fill, size, concurrency, () => inbox)
seconds = (performance.now() - started) / 1000
console.log(`filled ${inbox} with ${fill} messages (${(fill / seconds).toFixed(0)} messages/s)`)
const count = await (await fetch(`${base}/api/addresses/${inbox}/message-count`)).json()
if (count.count !== fill) throw new Error(`expected ${fill} stored messages, found ${count.count}`)

// One pass anonymous (how public inboxes are read; 300 requests stay under the 600-a-minute
// anonymous rate limit) and one with an API key (one more D1 query: the key's account).
const account = await fetch(`${base}/internal/admin/accounts`, {
  method: 'POST',
  headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ username: `bench-${run}` }),
}).then((response) => response.json())
for (const [label, limit, headers] of [
  ['anonymous', 20, {}],
  ['with an API key', 20, { 'Mailsac-Key': account.apiKey }],
  ['with an API key', 100, { 'Mailsac-Key': account.apiKey }],
]) {
  const timings = []
  for (let i = 0; i < Number(values.samples); i++) {
    const t0 = performance.now()
    const response = await fetch(`${base}/api/addresses/${inbox}/messages?limit=${limit}`, {
      headers,
    })
    const list = await response.json()
    timings.push(performance.now() - t0)
    if (list.length !== limit) throw new Error(`expected ${limit} messages, got ${list.length}`)
  }
  timings.sort((a, b) => a - b)
  console.log(
    `list ${label} (${fill} stored, limit=${limit}): p50 ${percentile(timings, 0.5).toFixed(1)} ms, p99 ${percentile(timings, 0.99).toFixed(1)} ms over ${timings.length} requests`,
  )
}
