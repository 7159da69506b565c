// A `wrangler dev` with its inspector open, and a Chrome DevTools protocol session on the
// Worker's isolate (workerd's inspector websocket; node:inspector cannot attach to workerd).
// Shared by bench/ingest-profile.mjs and bench/cpu.mjs.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import WebSocket from 'ws'
import { applyMigrations, freePort, repoRoot, waitFor } from '../../bridge/test/stack.js'

/**
 * Starts wrangler dev on free ports with local D1/R2 under `persistTo` (migrations applied).
 * @param {{ persistTo: string, vars: Record<string, string> }} options
 */
export async function startInspectedWorker({ persistTo, vars }) {
  const port = await freePort()
  const inspectorPort = await freePort()
  applyMigrations(persistTo)
  const child = spawn(
    join(repoRoot, 'node_modules', '.bin', 'wrangler'),
    [
      'dev',
      ...['--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort)],
      ...['--persist-to', persistTo],
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
      ...['--show-interactive-dev-session=false', '--log-level', 'warn'],
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  )
  // Its own process group: the whole group goes, workerd included, on every way out.
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  process.on('exit', stop)
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    const response = await fetch(`${url}/api/addresses/probe@example.com/availability`)
    await response.body?.cancel()
    return true
  }, 180_000)
  return { url, inspectorPort, stop }
}

/** A CDP session on workerd's inspector: the Worker's isolate is its one target. */
export async function inspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json()
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0]
  const socket = new WebSocket(target.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => {
    socket.onopen = resolve
    socket.onerror = reject
  })
  let id = 0
  const pending = new Map()
  socket.onmessage = (event) => {
    const reply = JSON.parse(String(event.data))
    if (reply.id && pending.has(reply.id)) {
      pending.get(reply.id)(reply)
      pending.delete(reply.id)
    }
  }
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const n = ++id
        pending.set(n, (reply) =>
          reply.error ? reject(new Error(reply.error.message)) : resolve(reply.result),
        )
        socket.send(JSON.stringify({ id: n, method, params }))
      }),
    close: () => socket.close(),
  }
}

/**
 * The CPU time each sample of a V8 CPU profile stands for, in µs. workerd releases the isolate
 * while a request waits for I/O and takes no samples meanwhile, so the first sample after a wait
 * carries the whole wait in its `timeDeltas` entry: summing the deltas counts waiting (D1, R2, the
 * client) as CPU of whatever function ran first after it (Hono's router, in practice). A sample
 * stands for at most two sampling intervals here, which bounds that error; idle samples count 0.
 * @param {{ nodes: { id: number, callFrame: { functionName: string } }[], samples: number[], timeDeltas: number[] }} profile
 * @param {number} intervalUs the interval given to Profiler.setSamplingInterval
 * @returns {number[]} µs per sample, in the order of `profile.samples`
 */
export function sampleCpuMicros(profile, intervalUs) {
  const names = new Map(profile.nodes.map((node) => [node.id, node.callFrame.functionName]))
  return profile.samples.map((sample, i) =>
    names.get(sample) === '(idle)' ? 0 : Math.min(profile.timeDeltas[i] ?? 0, 2 * intervalUs),
  )
}
