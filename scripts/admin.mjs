// `npm run admin -- <command>`: administers a running Worker (local or deployed) over its
// /internal/admin API. Prints one JSON object on stdout; errors go to stderr with exit 1.
// `doctor` prints its report instead (scripts/doctor.mjs), exiting 1 when a line says FIX.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const USAGE = `usage: npm run admin -- [--url URL] <command>
  account create <username> [--message-limit N] [--private-credits N] [--sends N] [--email E]
  account show <username>
  account key <username>        issue a new API key, revoking the old one
  account delete <username>
  account sends <username> <n>          set the outbound credit balance (one credit per recipient)
  account sends <username> --add <n>    add to it instead (--add=-5 takes 5 away)
  domain add <domain> --account <username>   the account owns every address at the domain
  domain show <domain>
  domain remove <domain>
  domain verify-sending <domain> [--account <username>]   allow sending from the domain
                                        (with --account, adds the domain to it first if needed)
  domain unverify-sending <domain>
  denylist list
  denylist add <domain-or-ip> [--reason TEXT]   refuse mail from this sender domain or client IP
  denylist remove <domain-or-ip>
  doctor [--bridge HOST] [--smtp-port N] [--pop3-port N] [--pop3s-port N]
                                        check the deployment from outside, one line per check
                                        (ports default to the bridge's: 2525, 1110, 1995)
The admin token comes from ADMIN_TOKEN in the environment, else from .dev.vars.
--url defaults to $ADMIN_URL or http://127.0.0.1:8787.`

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** A secret from the environment, else from .dev.vars (what `npm start` writes). */
function secret(name = 'ADMIN_TOKEN') {
  if (process.env[name]) return process.env[name]
  const file = join(root, '.dev.vars')
  if (existsSync(file)) {
    const match = new RegExp(`^\\s*${name}\\s*=\\s*"?([^"\\n]+)"?\\s*$`, 'm').exec(
      readFileSync(file, 'utf8'),
    )
    if (match) return match[1]
  }
  return null
}
const adminToken = () => secret('ADMIN_TOKEN')

function die(message) {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

function count(name, value) {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0) die(`--${name} takes a whole number >= 0`)
  return number
}

/** `account sends`: exactly one of <n> (set) and --add <n> (add, may be negative). */
function sendsChange(value, add) {
  if ((value === undefined) === (add === undefined)) {
    die('account sends needs either <n> (set the balance) or --add <n> (add to it)')
  }
  if (add !== undefined) {
    const number = Number(add)
    if (!Number.isInteger(number)) die('--add takes a whole number')
    return { add: number }
  }
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0) die('<n> must be a whole number >= 0')
  return { set: number }
}

function accountOption(command) {
  if (!options.account) die(`${command} needs --account <username>`)
  return options.account
}

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    'message-limit': { type: 'string' },
    'private-credits': { type: 'string' },
    sends: { type: 'string' },
    email: { type: 'string' },
    reason: { type: 'string' },
    account: { type: 'string' },
    add: { type: 'string' },
    bridge: { type: 'string' },
    'smtp-port': { type: 'string' },
    'pop3-port': { type: 'string' },
    'pop3s-port': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (options.help || positionals.length === 0) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(options.help ? 0 : 1)
}

const [resource, action, name, value] = positionals
if (resource === 'doctor') {
  const { doctor } = await import('./doctor.mjs')
  const port = (option, fallback) => count(option, options[option]) ?? fallback
  const { lines, problems } = await doctor({
    base: (options.url ?? process.env.ADMIN_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, ''),
    adminToken: adminToken(),
    ingestToken: secret('INGEST_TOKEN'),
    bridge: options.bridge
      ? {
          host: options.bridge,
          smtpPort: port('smtp-port', 2525),
          pop3Port: port('pop3-port', 1110),
          pop3sPort: port('pop3s-port', 1995),
        }
      : null,
  })
  process.stdout.write(`${lines.join('\n')}\n`)
  process.exit(problems ? 1 : 0)
}
if (!['account', 'denylist', 'domain'].includes(resource) || !action) die(USAGE)
if (!name && !(resource === 'denylist' && action === 'list')) {
  const what = { account: 'username', denylist: 'domain-or-ip', domain: 'domain' }[resource]
  die(`${resource} ${action} needs a <${what}>`)
}
const token = adminToken()
if (!token) die('No admin token: set ADMIN_TOKEN or run `npm start` once to create .dev.vars')
const base = (options.url ?? process.env.ADMIN_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '')
const target = encodeURIComponent(name ?? '')

const commands = {
  account: {
    create: () => [
      'POST',
      '/internal/admin/accounts',
      {
        username: name,
        email: options.email,
        messageLimit: count('message-limit', options['message-limit']),
        privateAddressCredits: count('private-credits', options['private-credits']),
        sendsRemaining: count('sends', options.sends),
      },
    ],
    show: () => ['GET', `/internal/admin/accounts/${target}`],
    key: () => ['POST', `/internal/admin/accounts/${target}/key`],
    delete: () => ['DELETE', `/internal/admin/accounts/${target}`],
    sends: () => [
      'PUT',
      `/internal/admin/accounts/${target}/sends`,
      sendsChange(value, options.add),
    ],
  },
  domain: {
    add: () => [
      'POST',
      '/internal/admin/domains',
      { domain: name, account: accountOption('domain add') },
    ],
    show: () => ['GET', `/internal/admin/domains/${target}`],
    remove: () => ['DELETE', `/internal/admin/domains/${target}`],
    // Several requests: only the last response is printed, so stdout stays one JSON object.
    'verify-sending': () => [
      ...(options.account
        ? [['POST', '/internal/admin/domains', { domain: name, account: options.account }]]
        : []),
      ['PUT', `/internal/admin/domains/${target}/sending`, { verified: true }],
    ],
    'unverify-sending': () => [
      ['PUT', `/internal/admin/domains/${target}/sending`, { verified: false }],
    ],
  },
  denylist: {
    list: () => ['GET', '/internal/admin/denylist'],
    add: () => ['PUT', `/internal/admin/denylist/${target}`, { reason: options.reason }],
    remove: () => ['DELETE', `/internal/admin/denylist/${target}`],
  },
}
const requests = commands[resource]
if (!requests[action]) die(`unknown command: ${resource} ${action}\n${USAGE}`)
const planned = requests[action]()
const steps = Array.isArray(planned[0]) ? planned : [planned]

let text = ''
for (const [method, path, body] of steps) {
  let response
  // Removing an account or a domain deletes its mail in bounded rounds: a 503 "call again"
  // means progress was made and the rest follows on the next call.
  for (let round = 0; ; round++) {
    try {
      response = await fetch(base + path, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      })
    } catch (error) {
      die(`Cannot reach ${base}: ${error.cause?.code ?? error.message} (is \`npm start\` running?)`)
    }
    text = await response.text()
    if (method !== 'DELETE' || response.status !== 503 || !text.includes('call again')) break
    if (round >= 1000) break
  }
  if (!response.ok) {
    let message = text
    try {
      message = JSON.parse(text).message ?? text
    } catch {}
    die(`${response.status}: ${message}`)
  }
}
process.stdout.write(`${text}\n`)
