// Starts the real components the bridge tests talk to: `wrangler dev` (workerd, local D1 and R2)
// and the bridge as a separate Node process, exactly as `npm start` runs them.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import net from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const wranglerBin = join(repoRoot, 'node_modules', '.bin', 'wrangler')
const bridgeEntry = join(repoRoot, 'bridge', 'src', 'index.js')

/**
 * Ports handed out by this process, so two calls never return the same one.
 * @type {Set<number>}
 */
const handedOut = new Set()

/**
 * A port nobody listens on right now, drawn at random from 20000-32767.
 *
 * Not `listen(0)`: the OS picks that port from the ephemeral range (32768-60999 on Linux),
 * the same range it takes the local port of every outgoing connection from. Between this
 * check and the child's bind, any of the suite's many connections could take the port, and a
 * bridge failed to start with EADDRINUSE once in CI that way. Below the ephemeral range only a
 * listener can take it, and the bind check here catches one that already has.
 */
export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * (32768 - 20000))
    if (handedOut.has(port)) continue
    const server = net.createServer()
    const bound = await new Promise((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (!bound) continue
    await new Promise((resolve) => server.close(resolve))
    handedOut.add(port)
    return port
  }
  throw new Error('no free port found in 20000-32767')
}

const wranglerEnv = () => ({ ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' })

/** @param {string} persistTo */
export function applyMigrations(persistTo) {
  const result = spawnSync(
    wranglerBin,
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo],
    { cwd: repoRoot, env: wranglerEnv(), encoding: 'utf8' },
  )
  if (result.status !== 0) {
    throw new Error(`wrangler d1 migrations apply failed:\n${result.stdout}\n${result.stderr}`)
  }
}

/**
 * @param {{ persistTo: string, port: number, adminToken: string, ingestToken: string, logFile: string, acceptedDomains?: string, vars?: Record<string, string> }} options
 */
export async function startWorker({
  persistTo,
  port,
  adminToken,
  ingestToken,
  logFile,
  acceptedDomains = '',
  vars = {},
}) {
  const inspectorPort = await freePort()
  const child = spawn(
    wranglerBin,
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      persistTo,
      '--var',
      `ADMIN_TOKEN:${adminToken}`,
      '--var',
      `INGEST_TOKEN:${ingestToken}`,
      '--var',
      `ACCEPTED_DOMAINS:${acceptedDomains}`,
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
    ],
    // Own process group, so teardown can stop workerd along with wrangler.
    { cwd: repoRoot, env: wranglerEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const log = createWriteStream(logFile)
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited (${child.exitCode}), see ${logFile}`)
    const response = await fetch(`${url}/api/addresses/probe@example.com/availability`)
    await response.body?.cancel()
    return true
  }, 180_000)
  return { url, stop: () => stopProcess(child, true) }
}

/**
 * @param {Record<string, string>} env bridge settings (ports, tokens, TLS files)
 * @param {string} logFile
 */
export async function startBridge(env, logFile) {
  // Same V8 setting as `npm run start -w bridge` and the Docker image.
  const child = spawn(process.execPath, ['--max-semi-space-size=1', bridgeEntry], {
    cwd: join(repoRoot, 'bridge'),
    // Tests that start their own bridge name only the ports they use: the submission listener
    // gets a free one rather than its default, which a running `npm start` may hold.
    env: { ...process.env, LOG_LEVEL: 'info', SUBMISSION_PORT: String(await freePort()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = createWriteStream(logFile)
  child.stdout.pipe(log)
  /** @type {string | null} */
  let output = ''
  const ready = new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      log.write(chunk)
      if (output !== null) {
        output += chunk
        if (output.includes('"bridge listening"')) {
          output = null
          resolve(undefined)
        }
      }
    })
    child.once('exit', (code) => reject(new Error(`bridge exited (${code}): ${output}`)))
  })
  await ready
  return {
    pid: /** @type {number} */ (child.pid),
    child,
    /** SIGTERM and wait: resolves with the exit code */
    stop: () => stopProcess(child, false),
  }
}

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {boolean} group signal the whole process group (wrangler spawns workerd)
 */
async function stopProcess(child, group) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = once(child, 'exit')
  const signal = (/** @type {NodeJS.Signals} */ name) => {
    try {
      if (group && child.pid) process.kill(-child.pid, name)
      else child.kill(name)
    } catch {
      // already gone
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), 15_000)
  const [code] = await exited
  clearTimeout(timer)
  return code
}

/**
 * @param {() => Promise<boolean>} probe
 * @param {number} timeoutMs
 */
export async function waitFor(probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  let lastError
  while (Date.now() < deadline) {
    try {
      if (await probe()) return
    } catch (err) {
      lastError = err
      if (err instanceof Error && /exited/.test(err.message)) throw err
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`timed out: ${lastError instanceof Error ? lastError.message : lastError}`)
}

/** @param {string} dir */
export function makeCertificate(dir) {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  )
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`)
  return { cert, key }
}
