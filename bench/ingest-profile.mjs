// Where the Worker's ingest time goes (#18): a CPU profile of workerd while it stores messages
// one at a time, as email() does in production, and the D1 and R2 round trips per message.
//
//   node bench/ingest-profile.mjs [--messages 300] [--batch 1]
//
// Starts `wrangler dev` (local D1/R2 in a temp dir) with its inspector, takes a CPU profile over
// the Chrome DevTools protocol (workerd's inspector websocket; node:inspector cannot attach to
// workerd) while --messages messages go through POST /internal/ingest/batch, --batch per
// request, one request at a time. Prints wall ms per message, then CPU ms per message by
// stage, from the inclusive time of the pipeline's functions (async continuations have no
// parent frame, so a stage is its functions' own frames plus what they call synchronously;
// "other" is the rest: the runtime, Hono, drizzle building statements, JSON). The wall time
// less the CPU is the waiting (D1, R2, the wrangler proxy); the D1 round trips per message
// are counted by test/platform/ingest-round-trips.test.ts, which runs through the harness.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { inspector, sampleCpuMicros, startInspectedWorker } from './lib/inspected-worker.mjs'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '300' },
    batch: { type: 'string', default: '1' },
  },
})
const SAMPLING_US = 200
const total = Number(values.messages)
const perRequest = Number(values.batch)
const dir = mkdtempSync(join(tmpdir(), 'ingest-profile-'))
const ingestToken = randomBytes(24).toString('hex')
const run = randomBytes(3).toString('hex')

// Stages by the function names the bundle keeps (esbuild preserves declared names).
const STAGES = [
  ['parse', /^(parseMessage|parseOrRefuse|PostalMime|parse)$|postal|decode/i],
  [
    'extract (links, codes, search text)',
    /^(extract|readHtml|messageLinks|findCodes|findActionLink|searchText)$/,
  ],
  ['sanitize', /^(sanitizeHtml|sanitize.*)$/],
  ['pack + hashes', /^(buildPack|crlfOctets|sha256Hex|emailRoutingKey)$/],
  [
    'D1 statements (drizzle build + bind)',
    /^(insertMessages|touchAttachmentBlobs|findOwnershipFor|denylistRefusals|storedArrivals|findArrivalKeys|findFanoutState|insertArrivalKey)$/,
  ],
  ['notify', /^(notifyStored)$/],
  ['multipart form (request)', /^(formData|parseBody)$/],
]

function message(i) {
  return [
    'From: Bench <bench@example.org>',
    `To: p${i % 40}@profile.example`,
    `Subject: profile message ${i}`,
    `Message-ID: <${run}.${i}@bench.example.org>`,
    'Date: Wed, 25 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Hello number ${i}, your code is 123456. https://example.org/verify?n=${i} `.repeat(8),
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Hello <b>number ${i}</b> <a href="https://example.org/v/${i}">verify</a></p>`.repeat(8),
    '--b--',
    '',
  ].join('\r\n')
}

async function ingest(url, first, count) {
  const form = new FormData()
  for (let i = first; i < first + count; i++) {
    form.append(
      'envelope',
      JSON.stringify({ from: 'bench@example.org', to: [`p${i % 40}@profile.example`] }),
    )
    form.append('message', new Blob([message(i)], { type: 'message/rfc822' }), 'message.eml')
  }
  const response = await fetch(`${url}/internal/ingest/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestToken}` },
    body: form,
  })
  if (!response.ok) throw new Error(`ingest: ${response.status} ${await response.text()}`)
  const { results } = await response.json()
  if (!results.every((r) => 'messages' in r)) throw new Error(JSON.stringify(results))
}

/** Inclusive µs of each stage: a node counts once, under the outermost stage on its path. */
function stages(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)
  const self = new Map()
  // Not the raw timeDeltas: a sample after an I/O wait carries the wait (sampleCpuMicros).
  const micros = sampleCpuMicros(profile, SAMPLING_US)
  profile.samples.forEach((sample, i) => {
    self.set(sample, (self.get(sample) ?? 0) + micros[i])
  })
  const out = new Map([...STAGES.map(([name]) => [name, 0]), ['idle', 0], ['other', 0]])
  const others = new Map()
  for (const [nodeId, micros] of self) {
    let stage = null
    for (let id = nodeId; id !== undefined; id = parent.get(id)) {
      const name = byId.get(id).callFrame.functionName
      const found = STAGES.find(([, pattern]) => pattern.test(name))
      if (found) stage = found[0]
    }
    const own = byId.get(nodeId).callFrame.functionName
    if (!stage && (own === '(idle)' || own === '(program)')) stage = 'idle'
    out.set(stage ?? 'other', out.get(stage ?? 'other') + micros)
    if (!stage) {
      const frame = byId.get(nodeId).callFrame
      const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`
      others.set(name, (others.get(name) ?? 0) + micros)
    }
  }
  return { out, others: [...others].sort((a, b) => b[1] - a[1]).slice(0, 12) }
}

const worker = await startInspectedWorker({
  persistTo: dir,
  vars: { INGEST_TOKEN: ingestToken, RATE_LIMITS: 'off' },
})
try {
  // Warm up (first requests compile the bundle and open the databases).
  for (let i = 0; i < 20; i += perRequest) await ingest(worker.url, 1_000_000 + i, perRequest)
  const cdp = await inspector(worker.inspectorPort)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLING_US })
  await cdp.send('Profiler.start')
  const started = performance.now()
  for (let i = 0; i < total; i += perRequest)
    await ingest(worker.url, i, Math.min(perRequest, total - i))
  const wall = performance.now() - started
  const { profile } = await cdp.send('Profiler.stop')
  cdp.close()
  const load = loadavg()[0].toFixed(2)
  console.log(
    `${total} messages, ${perRequest} per request, sequential: ${(wall / total).toFixed(2)} ms/message wall, ${((total / wall) * 1000).toFixed(0)} msg/s (load ${load})`,
  )
  const { out: split, others } = stages(profile)
  const cpu = [...split].filter(([name]) => name !== 'idle').reduce((sum, [, us]) => sum + us, 0)
  console.log(`Worker CPU ${(cpu / 1000 / total).toFixed(2)} ms/message; by stage (ms/message):`)
  for (const [name, micros] of split) {
    console.log(`  ${name.padEnd(40)} ${(micros / 1000 / total).toFixed(3)}`)
  }
  console.log('  "other", the largest self times (ms/message):')
  for (const [name, micros] of others) {
    console.log(`    ${name.slice(0, 60).padEnd(60)} ${(micros / 1000 / total).toFixed(3)}`)
  }
  console.log(
    `  (wall - CPU = ${((wall - cpu / 1000) / total).toFixed(2)} ms/message waiting: D1, R2, the wrangler proxy, the client)`,
  )
} finally {
  worker.stop()
  rmSync(dir, { recursive: true, force: true })
}
