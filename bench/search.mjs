// Search benchmark against a running local stack (`npm start`).
//   node bench/search.mjs [--messages 10000] [--batch 45] [--concurrency 2] [--samples 100]
// Makes an account that owns a fresh domain, stores --messages messages to it through
// POST /internal/ingest/batch (spread over 200 inboxes, one of them holding a tenth of the
// mail; 300 senders; about 3 KB of text body each, so the stored search text is near its
// 4 KB bound; one in ten with an attachment), then prints p50/p99 of GET /api/inbox-search
// (account-wide, the whole 10,000) and GET /api/addresses/:email/messages?q= (one inbox) for
// several kinds of query, requests one at a time. A 429 is waited out and not counted.
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.BENCH_URL ?? 'http://127.0.0.1:8787' },
    messages: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '45' },
    concurrency: { type: 'string', default: '2' },
    samples: { type: 'string', default: '100' },
  },
})
const base = values.url
const devVars = readFileSync('.dev.vars', 'utf8')
const secret = (name) => process.env[name] ?? new RegExp(`^${name}=(.*)$`, 'm').exec(devVars)?.[1]
const ingestToken = secret('INGEST_TOKEN')
const adminToken = secret('ADMIN_TOKEN')
const run = Date.now().toString(36)
const domain = `search-${run}.example`
const bigInbox = `big@${domain}`

const WORDS =
  `alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november
  oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu order invoice
  shipped tracking receipt account password welcome newsletter weekly report`.split(/\s+/)

/** About 3 KB of words, different per message (a cheap LCG over the word list). */
function body(i) {
  let seed = i * 2654435761
  const words = []
  for (let n = 0; n < 450; n++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    words.push(WORDS[seed % WORDS.length])
  }
  return `Hello, this is message ${i}. Reference R${i}X.\r\n${words.join(' ')}\r\n`
}

function message(i) {
  const to = i % 10 === 0 ? bigInbox : `inbox-${i % 200}@${domain}`
  const from = `sender${i % 300}@senders${i % 17}.example`
  const subject =
    i % 7 === 0 ? `Invoice ${i} for your order` : `Update ${i}: ${WORDS[i % WORDS.length]}`
  const head = [
    `From: Sender ${i % 300} <${from}>`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${run}.${i}@bench.example>`,
    'MIME-Version: 1.0',
  ]
  const parts =
    i % 10 === 3
      ? [
          'Content-Type: multipart/mixed; boundary=b',
          '',
          '--b',
          'Content-Type: text/plain',
          '',
          body(i),
          '--b',
          'Content-Type: text/plain; name="a.txt"',
          'Content-Disposition: attachment; filename="a.txt"',
          '',
          `attachment ${i % 50}`,
          '--b--',
          '',
        ]
      : ['Content-Type: text/plain', '', body(i)]
  return { to, from, raw: [...head, ...parts].join('\r\n') }
}

async function ingestBatch(first, count) {
  const form = new FormData()
  for (let i = first; i < first + count; i++) {
    const { to, from, raw } = message(i)
    form.append('envelope', JSON.stringify({ from, to: [to], ip: '192.0.2.1' }))
    form.append('message', new Blob([raw]), `${i}.eml`)
  }
  let response
  for (let attempt = 1; !response; attempt++) {
    // On a loaded machine a batch now and then never answers; a retry stores it (a duplicate
    // at worst, which only adds to the mail searched).
    response = await fetch(`${base}/internal/ingest/batch`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ingestToken}` },
      body: form,
      signal: AbortSignal.timeout(60_000),
    }).catch((error) => {
      if (attempt >= 3) throw error
      console.log(`batch at ${first}: ${error.message}; retrying`)
    })
  }
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

async function admin(path, body) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return response.json()
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// 1. An account owning a fresh domain, and its mail.
const total = Number(values.messages)
const account = await admin('/internal/admin/accounts', {
  username: `search-bench-${run}`,
  // Above the default 1,000, so recycling does not delete the mail being measured.
  messageLimit: total * 2,
})
await admin('/internal/admin/domains', { domain, account: account._id })
const headers = { 'Mailsac-Key': account.apiKey }
const size = Number(values.batch)
const started = performance.now()
await pool(Math.ceil(total / size), Number(values.concurrency), (b) =>
  ingestBatch(b * size, Math.min(size, total - b * size)),
)
const seconds = (performance.now() - started) / 1000
console.log(
  `stored ${total} messages in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)}/s)`,
)

// 2. Latency per kind of query.
const today = new Date().toISOString().slice(0, 10)
const account_ = (query) => `/api/inbox-search?query=${encodeURIComponent(query)}`
const inbox = (q) => `/api/addresses/${bigInbox}/messages?limit=100&q=${encodeURIComponent(q)}`
const kinds = [
  ['account: plain Mailsac query (no syntax)', account_('invoice')],
  ['account: subject:', account_('subject:invoice')],
  ['account: from:', account_('from:sender42@')],
  ['account: body word, rare (R1234X)', account_('"r1234x"')],
  ['account: body word, matching nothing', account_('"nosuchword"')],
  ['account: phrase over body', account_('"tracking receipt"')],
  ['account: has:attachment is:unread', account_('has:attachment is:unread')],
  [
    'account: -subject:invoice larger:2k after:',
    account_(`-subject:invoice larger:2k after:${today}`),
  ],
  [
    'account: 5 terms, no match',
    account_('from:sender1@ to:inbox-7 subject:zzz "zulu yankee" -is:read'),
  ],
  ['inbox (1,000 msgs): no q', `/api/addresses/${bigInbox}/messages?limit=100`],
  ['inbox (1,000 msgs): body word matching nothing', inbox('"nosuchword"')],
  ['inbox (1,000 msgs): from: -has:attachment', inbox('from:sender3 -has:attachment')],
]
const samples = Number(values.samples)
console.log(
  `${samples} samples per kind, one request at a time; load average ${loadavg()[0].toFixed(2)}`,
)
for (const [name, path] of kinds) {
  const times = []
  let count = 0
  while (times.length < samples) {
    const t0 = performance.now()
    const response = await fetch(`${base}${path}`, { headers })
    const text = await response.text()
    const ms = performance.now() - t0
    if (response.status === 429) {
      await sleep(1000 * Number(response.headers.get('retry-after') ?? 10))
      continue
    }
    if (!response.ok) throw new Error(`${name}: ${response.status} ${text}`)
    const parsed = JSON.parse(text)
    count = (Array.isArray(parsed) ? parsed : parsed.messages).length
    times.push(ms)
  }
  times.sort((a, b) => a - b)
  console.log(
    `${name.padEnd(52)} p50 ${percentile(times, 0.5).toFixed(1).padStart(6)} ms  p99 ${percentile(times, 0.99).toFixed(1).padStart(6)} ms  (${count} results)`,
  )
}
console.log(`load average after: ${loadavg()[0].toFixed(2)}`)
