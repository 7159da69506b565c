// `npm start`: the whole local stack. Creates .dev.vars with fresh random tokens when it is
// missing, applies the local D1 migrations, makes a self-signed TLS pair for the bridge,
// then runs `wrangler dev` and the POP3/SMTP bridge side by side until Ctrl-C.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' }
const port = env.PORT ?? '8787'
const wrangler = join(root, 'node_modules', '.bin', 'wrangler')

function token() {
  return randomBytes(32).toString('hex')
}

/** KEY=VALUE lines of .dev.vars, so the bridge shares the Worker's INGEST_TOKEN. */
export function readDevVars(file) {
  const vars = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1')
  }
  return vars
}

const devVars = join(root, '.dev.vars')
if (!existsSync(devVars)) {
  writeFileSync(devVars, `ADMIN_TOKEN=${token()}\nINGEST_TOKEN=${token()}\n`, { mode: 0o600 })
  console.log('created .dev.vars with fresh ADMIN_TOKEN and INGEST_TOKEN')
}
const vars = readDevVars(devVars)

const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local'], {
  cwd: root,
  env: { ...env, CI: 'true' },
  stdio: 'inherit',
})
if (migrate.status !== 0) process.exit(migrate.status ?? 1)

const tlsDir = join(root, '.local', 'tls')
const tls = { cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem') }
if (!env.TLS_CERT && !existsSync(tls.cert)) {
  mkdirSync(tlsDir, { recursive: true })
  const made = spawnSync(
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
      '365',
      '-keyout',
      tls.key,
      '-out',
      tls.cert,
    ],
    { stdio: 'ignore' },
  )
  if (made.status !== 0) console.warn('openssl not found: the bridge starts without TLS')
}

const children = []
function run(name, command, args, extraEnv) {
  const child = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: 'inherit' })
  child.on('exit', (code) => {
    console.log(`${name} exited (${code}); stopping the stack`)
    shutdown(code ?? 1)
  })
  children.push(child)
}

let stopping = false
function shutdown(code) {
  if (stopping) return
  stopping = true
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  // The bridge drains its sessions for up to 10 s after SIGTERM; wait for it, not longer.
  const alive = children.filter((child) => child.exitCode === null)
  let left = alive.length
  if (left === 0) process.exit(code)
  for (const child of alive) child.once('exit', () => --left === 0 && process.exit(code))
  setTimeout(() => process.exit(code), 12_000).unref()
}
process.on('SIGINT', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))

// A test suite polling the local stack with no key would meet the production rate limits
// (600 requests a minute per address): lifted here unless RATE_LIMITS=on is set.
const rateLimits = env.RATE_LIMITS === 'on' ? 'on' : 'off'
run(
  'wrangler dev',
  wrangler,
  ['dev', '--ip', '127.0.0.1', '--port', port, '--var', `RATE_LIMITS:${rateLimits}`],
  {},
)
if (existsSync(join(root, 'bridge', 'src', 'index.js'))) {
  // A 1 MB young generation keeps the bridge's memory flat under many sessions (bench/bridge.mjs).
  run('bridge', process.execPath, ['--max-semi-space-size=1', join(root, 'bridge', 'src', 'index.js')], {
    BRIDGE_API_URL: env.BRIDGE_API_URL ?? `http://127.0.0.1:${port}`,
    INGEST_TOKEN: vars.INGEST_TOKEN,
    // Authenticated sending (AUTH with username + API key) into POST /api/outgoing-messages.
    SUBMISSION_PORT: env.SUBMISSION_PORT ?? '2587',
    ...(existsSync(tls.cert) && !env.TLS_CERT ? { TLS_CERT: tls.cert, TLS_KEY: tls.key } : {}),
  })
}
