// CPU time per invocation of the Worker's own isolate, next to Cloudflare's CPU limits
// (https://developers.cloudflare.com/workers/platform/limits/#cpu-time: 10 ms on Workers Free;
// 30 s by default on Workers Paid, up to 5 min with `[limits] cpu_ms`). Neither wrangler dev nor
// the test pool enforces CPU time, so this prints what each path costs.
//
//   node bench/cpu.mjs [--runs 15]
//
// Starts `wrangler dev` (local D1/R2 in a temp dir) with its inspector and, for each case below,
// takes a CPU profile of the Worker's isolate around each request, one request at a time, and
// counts the samples that ran the Worker (JavaScript, the garbage collector, native code it
// called), each for at most two sampling intervals (see sampleCpuMicros: a sample taken after an
// I/O wait otherwise carries the whole wait). "(program)", time outside JavaScript, is printed
// apart and not counted. Prints the median and the highest per case. The local D1/R2 simulators
// run in other isolates of the same workerd and are not counted, as production does not bill
// D1's or R2's work to the Worker. This machine is not Cloudflare's: take the figures as
// proportions and orders of magnitude. A case over 10 ms needs Workers Paid: on Free the
// invocation ends with "exceeded CPU time limit" (error 1102).
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { inspector, sampleCpuMicros, startInspectedWorker } from './lib/inspected-worker.mjs'

// --only <text>: just the cases whose name contains it (list and read need the small messages).
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, only: { type: 'string', default: '' } },
})
const runs = Number(values.runs)
const FREE_CPU_MS = 10
const SAMPLING_US = 100
const PAID_DEFAULT_CPU_MS = 30_000
const MIB = 1024 * 1024
const domain = 'cpu.example'
const dir = mkdtempSync(join(tmpdir(), 'cpu-bench-'))
const ingestToken = randomBytes(24).toString('hex')
let serial = 0

/** A signup-style message: text and HTML alternatives with a link and a code. */
function small(to) {
  const n = ++serial
  return [
    'From: Acme <no-reply@acme.example>',
    `To: ${to}`,
    `Subject: Verify your email ${n}`,
    `Message-ID: <cpu.${n}.${randomBytes(4).toString('hex')}@acme.example>`,
    'Date: Wed, 02 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Your code is 482913. Open https://app.example/verify?t=${n} to confirm.`.repeat(10),
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Your code is <b>482913</b>. <a href="https://app.example/verify?t=${n}">Confirm</a></p>`.repeat(
      10,
    ),
    '--b--',
    '',
  ].join('\r\n')
}

/** A text/plain message of about `bytes`. */
function plain(to, bytes) {
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n'
  return [
    `From: a@example.org`,
    `To: ${to}`,
    `Subject: text of ${bytes} bytes`,
    `Message-ID: <cpu.${++serial}@example.org>`,
    '',
    line.repeat(Math.floor(bytes / line.length)),
  ].join('\r\n')
}

/**
 * A text/plain message of about `bytes` that is nothing but codes and code words, in lines of
 * 990 characters (as SMTP carries them): the worst case of the code finder's scan.
 */
function codes(to, bytes) {
  const line = 'Your code is 123456. '.repeat(47) + '\r\n'
  return [
    `From: a@example.org`,
    `To: ${to}`,
    `Subject: codes, ${bytes} bytes`,
    `Message-ID: <cpu.${++serial}@example.org>`,
    '',
    line.repeat(Math.floor(bytes / line.length)),
  ].join('\r\n')
}

/** One base64 attachment, the message about `bytes`. */
function attachment(to, bytes) {
  const line = randomBytes(57).toString('base64') + '\r\n'
  return [
    `From: a@example.org`,
    `To: ${to}`,
    'Subject: one attachment',
    `Message-ID: <cpu.${++serial}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'See attached.',
    '--b',
    'Content-Type: application/octet-stream; name="data.bin"',
    'Content-Disposition: attachment; filename="data.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    line.repeat(Math.floor((bytes - 600) / line.length)),
    '--b--',
    '',
  ].join('\r\n')
}

const auth = { authorization: `Bearer ${ingestToken}` }

/** POST /internal/ingest with the envelope in the query, as the email() path stores one message. */
function ingestOne(url, raw, to) {
  const query = new URLSearchParams({ from: 'a@example.org', to })
  return fetch(`${url}/internal/ingest?${query}`, { method: 'POST', headers: auth, body: raw })
}

/** POST /internal/ingest/batch: the bridge's form of `count` messages. */
function ingestBatch(url, count, recipients) {
  const form = new FormData()
  for (let i = 0; i < count; i++) {
    const to = Array.from({ length: recipients }, (_, r) => `b${i}-${r}@${domain}`)
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to }))
    form.append('message', new Blob([small(to[0])]), 'message.eml')
  }
  return fetch(`${url}/internal/ingest/batch`, { method: 'POST', headers: auth, body: form })
}

// Each case: a name and a request (run `runs` times unless `once`, after one unprofiled run),
// answered 200; `setup` runs once before and its result is passed to every request.
const cases = [
  {
    name: 'store one small message (2 KB)',
    request: (url) => ingestOne(url, small(`s@${domain}`), `s@${domain}`),
  },
  {
    name: 'store one small message to 100 inboxes',
    request: (url) => {
      const to = Array.from({ length: 100 }, (_, i) => `h${i}@${domain}`)
      const query = new URLSearchParams([['from', 'a@example.org'], ...to.map((r) => ['to', r])])
      return fetch(`${url}/internal/ingest?${query}`, {
        method: 'POST',
        headers: auth,
        body: small(to[0]),
      })
    },
  },
  { name: 'bridge batch: 50 small messages', request: (url) => ingestBatch(url, 50, 1) },
  {
    name: 'store 100 KB of text/plain',
    request: (url) => ingestOne(url, plain(`t@${domain}`, 100_000), `t@${domain}`),
  },
  {
    name: 'store 1 MiB of text/plain',
    request: (url) => ingestOne(url, plain(`t@${domain}`, MIB), `t@${domain}`),
  },
  {
    name: 'store 512 KB of text, all codes',
    once: true,
    request: (url) => ingestOne(url, codes(`c@${domain}`, 512 * 1024), `c@${domain}`),
  },
  {
    name: 'store 25 MiB of text/plain',
    once: true,
    request: (url) => ingestOne(url, plain(`t@${domain}`, 25 * MIB - 1024), `t@${domain}`),
  },
  {
    name: 'store a 1 MiB attachment',
    request: (url) => ingestOne(url, attachment(`a@${domain}`, MIB), `a@${domain}`),
  },
  {
    name: 'store a 25 MiB attachment',
    once: true,
    request: (url) => ingestOne(url, attachment(`a@${domain}`, 25 * MIB - 1024), `a@${domain}`),
  },
  {
    name: 'list an inbox (100 messages)',
    request: (url) => fetch(`${url}/api/addresses/s@${domain}/messages?limit=100`),
  },
  {
    name: 'read one message (JSON, 2 KB)',
    setup: async (url) => {
      const [first] = await (
        await fetch(`${url}/api/addresses/s@${domain}/messages?limit=1`)
      ).json()
      return first._id
    },
    request: (url, id) => fetch(`${url}/api/addresses/s@${domain}/messages/${id}`),
  },
]

/** CPU ms of one profile: the Worker's samples, and "(program)" apart. */
function cpuOf(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const micros = sampleCpuMicros(profile, SAMPLING_US)
  let worker = 0
  let program = 0
  profile.samples.forEach((sample, i) => {
    if (byId.get(sample).callFrame.functionName === '(program)') program += micros[i]
    else worker += micros[i]
  })
  return { worker: worker / 1000, program: program / 1000 }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)).padStart(7)

const worker = await startInspectedWorker({
  persistTo: dir,
  vars: { INGEST_TOKEN: ingestToken, RATE_LIMITS: 'off', ACCEPTED_DOMAINS: domain },
})
try {
  const cdp = await inspector(worker.inspectorPort)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLING_US })
  console.log(
    `load average before ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  console.log(
    `${'case'.padEnd(42)} ${'median'.padStart(7)} ${'highest'.padStart(7)}  ms CPU; (program) median   vs Free ${FREE_CPU_MS} ms / Paid ${PAID_DEFAULT_CPU_MS / 1000} s`,
  )
  for (const { name, request, setup, once } of cases.filter((c) => c.name.includes(values.only))) {
    const figures = []
    const programs = []
    const context = setup ? await setup(worker.url) : undefined
    // One unprofiled run first: the first request of a kind compiles its code.
    await (await request(worker.url, context)).arrayBuffer()
    for (let run = 0; run < (once ? 1 : runs); run++) {
      await cdp.send('Profiler.start')
      const response = await request(worker.url, context)
      const body = await response.arrayBuffer()
      const { profile } = await cdp.send('Profiler.stop')
      if (response.status !== 200) {
        throw new Error(`${name}: ${response.status} ${Buffer.from(body).toString().slice(0, 200)}`)
      }
      const { worker: ms, program } = cpuOf(profile)
      figures.push(ms)
      programs.push(program)
    }
    const verdict =
      median(figures) <= FREE_CPU_MS
        ? 'Free'
        : median(figures) <= PAID_DEFAULT_CPU_MS
          ? 'Paid'
          : 'over'
    console.log(
      `${name.padEnd(42)} ${fmt(median(figures))} ${fmt(Math.max(...figures))}  ${fmt(median(programs))}            ${verdict}`,
    )
  }
  cdp.close()
  console.log(
    `load average after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
} finally {
  worker.stop()
  rmSync(dir, { recursive: true, force: true })
}
