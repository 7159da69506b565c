// Mail stats benchmark against a running local stack (`npm start`).
//   node bench/stats.mjs [--messages 100000] [--batch 45] [--concurrency 4] [--samples 200]
// Stores --messages messages through POST /internal/ingest/batch (spread over 2,000 inboxes on
// 20 domains and 500 senders; one in ten carries one of 50 attachments), then prints the
// p50/p99 latency of every /api/mailstats endpoint over the last day of mail, requests one at
// a time. --messages 0 measures the data already stored. Requests carry API keys of accounts
// made for the run (one per endpoint) so the per-client rate limit is not what is measured.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BENCH_URL ?? 'http://127.0.0.1:8787' },
    messages: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '45' },
    concurrency: { type: 'string', default: '4' },
    samples: { type: 'string', default: '200' },
  },
})
const base = values.url
const devVars = readFileSync('.dev.vars', 'utf8')
const secret = (name) => process.env[name] ?? new RegExp(`^${name}=(.*)$`, 'm').exec(devVars)?.[1]
const ingestToken = secret('INGEST_TOKEN')
const adminToken = secret('ADMIN_TOKEN')
const run = Date.now().toString(36)

const files = Array.from({ length: 50 }, (_, i) => ({
  name: `file-${i}.txt`,
  bytes: Buffer.from(`bench attachment ${i} `.repeat(20 + i)),
}))
const md5s = files.map((file) => createHash('md5').update(file.bytes).digest('hex'))

function message(i) {
  const to = `bench-${i % 2000}@stats${i % 20}.example`
  const from = `sender${i % 500}@senders${i % 37}.example`
  const head = [
    `From: Sender ${i % 500} <${from}>`,
    `To: ${to}`,
    `Subject: stats bench ${i}`,
    `Message-ID: <${run}.${i}@bench.example>`,
    'Date: Wed, 25 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
  ]
  // Skewed so common-attachments has a clear order: file k is picked about 1/(k+1) as often.
  const file = i % 10 === 0 ? files[Math.floor(50 ** (((i * 7919) % 1000) / 1000)) - 1] : null
  const body = file
    ? [
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        `Hello number ${i}.`,
        '--b',
        `Content-Type: text/plain; name="${file.name}"`,
        `Content-Disposition: attachment; filename="${file.name}"`,
        'Content-Transfer-Encoding: base64',
        '',
        file.bytes.toString('base64'),
        '--b--',
        '',
      ]
    : ['Content-Type: text/plain', '', `Hello number ${i}.`, '']
  return { to, from, raw: [...head, ...body].join('\r\n') }
}

async function ingestBatch(first, count) {
  const form = new FormData()
  for (let i = first; i < first + count; i++) {
    const { to, from, raw } = message(i)
    form.append('envelope', JSON.stringify({ from, to: [to], ip: `192.0.2.${i % 250}` }))
    form.append('message', new Blob([raw]), `${i}.eml`)
  }
  const response = await fetch(`${base}/internal/ingest/batch`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ingestToken}` },
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

async function apiKey(label) {
  const response = await fetch(`${base}/internal/admin/accounts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: `bench-${run}-${label}` }),
  })
  if (!response.ok) throw new Error(`account: ${response.status} ${await response.text()}`)
  return (await response.json()).apiKey
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

// 1. Fill.
const total = Number(values.messages)
const size = Number(values.batch)
if (total > 0) {
  const started = performance.now()
  const batches = Math.ceil(total / size)
  await pool(batches, Number(values.concurrency), (b) =>
    ingestBatch(b * size, Math.min(size, total - b * size)),
  )
  const seconds = (performance.now() - started) / 1000
  console.log(
    `stored ${total} messages in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} messages/s)`,
  )
}

// 2. Latency of each endpoint over the last day.
const endDate = new Date(Date.now() + 60_000).toISOString()
const startDate = new Date(Date.now() - 24 * 3_600_000).toISOString()
const range = `startDate=${startDate}&endDate=${endDate}`
const top = md5s[0]
const endpoints = [
  [`top-addresses`, `/api/mailstats/top-addresses?${range}`],
  [`top-senders`, `/api/mailstats/top-senders?${range}`],
  [`top-domains`, `/api/mailstats/top-domains?${range}`],
  [`common-attachments`, `/api/mailstats/common-attachments?${range}`],
  [`common-attachments, limit=1000`, `/api/mailstats/common-attachments?${range}&limit=1000`],
  [`common-attachments/:md5/count`, `/api/mailstats/common-attachments/${top}/count`],
  [`common-attachments/:md5`, `/api/mailstats/common-attachments/${top}`],
  [`common-attachments/:md5/download`, `/api/mailstats/common-attachments/${top}/download`],
  [`blacklist`, `/api/mailstats/blacklist`],
  [`blacklist/:domainOrIP`, `/api/mailstats/blacklist/example.net`],
]
const samples = Number(values.samples)
const domains = await (
  await fetch(`${base}/api/mailstats/top-domains?${range}&limit=1000`, {
    headers: { 'Mailsac-Key': await apiKey('probe') },
  })
).json()
console.log(
  `${domains.reduce((sum, row) => sum + row.n, 0)} public messages in the range; ${samples} samples per endpoint`,
)
for (const [name, path] of endpoints) {
  const headers = { 'Mailsac-Key': await apiKey(name.replace(/\W+/g, '-')) }
  const times = []
  for (let i = 0; i < samples + 5; i++) {
    const started = performance.now()
    const response = await fetch(base + path, { headers })
    await response.arrayBuffer()
    if (response.status >= 500 || response.status === 429 || response.status === 400) {
      throw new Error(`${name}: ${response.status}`)
    }
    if (i >= 5) times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  console.log(
    `${name.padEnd(34)} p50 ${percentile(times, 0.5).toFixed(1).padStart(6)} ms   p99 ${percentile(times, 0.99).toFixed(1).padStart(6)} ms`,
  )
}
