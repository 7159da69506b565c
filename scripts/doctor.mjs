// `npm run admin -- doctor`: checks a deployment from outside, the way mail and clients reach
// it, and prints one line per check: `ok` or `FIX` with what to do. The most common report of
// self-hosted temp-mail services is "deployed, but no mail arrives"; each line here is one of
// the reasons it happens.
import net from 'node:net'
import tls from 'node:tls'

/** How long one network step (connect, greeting, command) may take. */
const STEP_TIMEOUT_MS = 5000
/** Domains checked per run: each costs two DNS lookups on the Worker. */
const MAX_DOMAINS = 50
/** A certificate closer than this to expiry is a problem worth a line. */
const CERT_WARN_DAYS = 14

/**
 * @typedef {object} DoctorOptions
 * @property {string} base the Worker's URL
 * @property {string | null} adminToken
 * @property {string | null} ingestToken
 * @property {{ host: string, smtpPort: number, pop3Port: number, pop3sPort: number | null } | null} bridge
 */

/**
 * Runs every check; resolves with the report lines and whether any needs fixing.
 * @param {DoctorOptions} options
 */
export async function doctor({ base, adminToken, ingestToken, bridge }) {
  /** @type {string[]} */
  const lines = []
  const ok = (/** @type {string} */ text) => lines.push(`ok   ${text}`)
  const fix = (/** @type {string} */ text) => lines.push(`FIX  ${text}`)

  const reachable = await request(base, '/api/limits')
  if (!reachable.ok) {
    fix(
      `Worker at ${base} does not answer GET /api/limits (${reachable.problem}): check the URL and that it is deployed.`,
    )
    return { lines, problems: true }
  }
  ok(`Worker reachable at ${base}`)

  let admin = false
  if (!adminToken) fix('No ADMIN_TOKEN to test: set it in the environment (or .dev.vars).')
  else {
    const answer = await request(base, '/internal/admin/migrations', adminToken)
    if (answer.status === 401)
      fix(
        'ADMIN_TOKEN is refused by the Worker: it differs from the Worker secret (wrangler secret put ADMIN_TOKEN).',
      )
    else if (answer.status === 503)
      fix('ADMIN_TOKEN is not configured on the Worker: wrangler secret put ADMIN_TOKEN.')
    else if (!answer.ok) fix(`ADMIN_TOKEN check failed: ${answer.problem}`)
    else {
      admin = true
      ok('ADMIN_TOKEN accepted')
      const { missing, applied } = answer.body
      if (missing.length)
        fix(
          `D1 lacks ${missing.length} migration(s) (${missing.join(', ')}): run wrangler d1 migrations apply DB --remote.`,
        )
      else ok(`migrations applied (${applied.length}, newest ${applied.at(-1)})`)
    }
  }

  if (!ingestToken) fix('No INGEST_TOKEN to test: set it in the environment (or .dev.vars).')
  else {
    // A body that is not multipart: with the right token the Worker answers 400 and stores nothing.
    const answer = await request(base, '/internal/ingest/batch', ingestToken, {
      method: 'POST',
      body: 'doctor',
    })
    if (answer.status === 400) ok('INGEST_TOKEN accepted (the bridge can deliver)')
    else if (answer.status === 401)
      fix(
        'INGEST_TOKEN is refused by the Worker: the bridge cannot deliver; give both the same secret.',
      )
    else fix(`INGEST_TOKEN check: unexpected answer ${answer.problem}`)
  }

  if (admin) await checkDomains(base, adminToken, ok, fix)

  if (bridge) {
    await checkSmtp(bridge.host, bridge.smtpPort, ok, fix)
    await checkPop3(bridge.host, bridge.pop3Port, ok, fix)
    if (bridge.pop3sPort) await checkPop3s(bridge.host, bridge.pop3sPort, ok, fix)
  } else {
    ok('bridge not checked (give --bridge HOST to test its SMTP and POP3 ports)')
  }
  return { lines, problems: lines.some((line) => line.startsWith('FIX')) }
}

/**
 * @param {string} base
 * @param {string} path
 * @param {string | null} [token]
 * @param {RequestInit} [init]
 */
async function request(base, path, token, init = {}) {
  try {
    const response = await fetch(base + path, {
      ...init,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS * 2),
    })
    const text = await response.text()
    let body = null
    try {
      body = JSON.parse(text)
    } catch {}
    const problem = `HTTP ${response.status}${body?.message ? `: ${body.message}` : ''}`
    return { ok: response.ok, status: response.status, body, problem }
  } catch (error) {
    return {
      ok: false,
      status: 0,
      body: null,
      problem: error.cause?.code ?? error.cause?.errors?.[0]?.code ?? error.message,
    }
  }
}

async function checkDomains(base, token, ok, fix) {
  const listed = await request(base, '/internal/admin/domains', token)
  if (!listed.ok) return fix(`Could not list domains: ${listed.problem}`)
  const domains = listed.body
  if (domains.length === 0) return ok('no custom domains assigned')
  for (const domain of domains.slice(0, MAX_DOMAINS)) {
    const name = domain._id
    const checked = await request(
      base,
      `/internal/admin/domains/${encodeURIComponent(name)}/verify`,
      token,
      { method: 'POST' },
    )
    if (!checked.ok) {
      fix(`${name}: the check failed (${checked.problem})`)
      continue
    }
    const { verified, verifiedMx, lastVerificationErrors, verificationTxt } = checked.body
    if (verified && verifiedMx) {
      // The Worker's verify route decides, so the rule is the one its cron and routes use.
      ok(`${name}: MX at Cloudflare Email Routing or an ACCEPTED_MX_HOSTS host, TXT token found`)
      continue
    }
    for (const error of (lastVerificationErrors ?? '').split('\n').filter(Boolean)) {
      fix(`${name}: ${error}`)
    }
    if (!verified) fix(`${name}: publish TXT "${verificationTxt}", then run doctor again`)
  }
  if (domains.length > MAX_DOMAINS) {
    ok(`${domains.length - MAX_DOMAINS} more domains not checked (at most ${MAX_DOMAINS} a run)`)
  }
}

/** A socket with a line reader: `next(done)` resolves with the lines read until `done` says so. */
function conversation(socket) {
  let buffer = ''
  /** @type {(() => void) | null} */
  let wake = null
  const onData = (chunk) => {
    buffer += chunk.toString('latin1')
    wake?.()
  }
  socket.on('data', onData)
  return {
    socket,
    /** @param {(lines: string[]) => boolean} done */
    next(done) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer in time')), STEP_TIMEOUT_MS)
        const check = () => {
          const lines = buffer.split('\r\n')
          const complete = lines.slice(0, -1)
          if (complete.length && done(complete)) {
            buffer = lines.at(-1) ?? ''
            clearTimeout(timer)
            wake = null
            resolve(complete)
          }
        }
        wake = check
        socket.once('error', reject)
        socket.once('close', () => reject(new Error('connection closed')))
        check()
      })
    },
    send(line) {
      socket.write(`${line}\r\n`)
    },
    detach() {
      socket.off('data', onData)
    },
  }
}

const smtpDone = (lines) => /^\d{3} /.test(lines.at(-1) ?? '')
const pop3Done = (lines) => /^(\+OK|-ERR)/.test(lines[0] ?? '')
const pop3ListDone = (lines) => !lines[0]?.startsWith('+OK') || lines.at(-1) === '.'

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: STEP_TIMEOUT_MS })
    socket.once('connect', () => resolve(socket))
    socket.once('timeout', () => reject(new Error('connect timed out')))
    socket.once('error', reject)
  })
}

/** TLS over an existing socket (STARTTLS/STLS) or a new connection (implicit TLS). */
function startTls(host, options) {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      ...options,
      host,
      // The certificate is judged below (trust, name, expiry), so a bad one is reported, not fatal.
      rejectUnauthorized: false,
      servername: net.isIP(host) ? undefined : host,
    })
    secure.once('secureConnect', () => resolve(secure))
    secure.once('error', reject)
    secure.setTimeout(STEP_TIMEOUT_MS, () => secure.destroy(new Error('TLS handshake timed out')))
  })
}

/** One line on a certificate: ok, or every problem it has. */
function certificateLine(label, host, secure, ok, fix) {
  const cert = secure.getPeerCertificate()
  const expires = new Date(cert.valid_to)
  const days = Math.floor((expires.getTime() - Date.now()) / 86_400_000)
  const problems = []
  if (!secure.authorized) problems.push(`not trusted (${secure.authorizationError})`)
  const mismatch = tls.checkServerIdentity(host, cert)
  if (mismatch) problems.push(`does not name ${host} (${cert.subject?.CN ?? 'no CN'})`)
  if (days < 0) problems.push(`expired on ${expires.toISOString().slice(0, 10)}`)
  else if (days < CERT_WARN_DAYS)
    problems.push(`expires in ${days} day(s), on ${expires.toISOString().slice(0, 10)}`)
  const summary = `TLS certificate of ${label}`
  if (problems.length) {
    fix(
      `${summary}: ${problems.join('; ')}: mail clients and senders may refuse it (TLS_CERT/TLS_KEY of the bridge)`,
    )
  } else {
    ok(
      `${summary}: valid until ${expires.toISOString().slice(0, 10)} (${days} days), names ${host}, trusted`,
    )
  }
}

async function checkSmtp(host, port, ok, fix) {
  const label = `SMTP ${host}:${port}`
  let socket
  try {
    socket = await connect(host, port)
    const talk = conversation(socket)
    const greeting = await talk.next(smtpDone)
    if (!greeting.at(-1)?.startsWith('220')) {
      return fix(`${label} greets with "${greeting.at(-1)}" instead of 220: is it the bridge?`)
    }
    ok(`${label} answers: ${greeting.at(-1)}`)
    talk.send('EHLO doctor.invalid')
    const ehlo = await talk.next(smtpDone)
    if (!ehlo.some((line) => /^250[ -]STARTTLS/i.test(line))) {
      return fix(
        `${label} offers no STARTTLS: senders deliver in clear text (set TLS_CERT and TLS_KEY on the bridge)`,
      )
    }
    talk.send('STARTTLS')
    const ready = await talk.next(smtpDone)
    if (!ready.at(-1)?.startsWith('220')) return fix(`${label} refuses STARTTLS: ${ready.at(-1)}`)
    talk.detach()
    const secure = await startTls(host, { socket })
    certificateLine(`${label} (STARTTLS)`, host, secure, ok, fix)
    secure.end('QUIT\r\n')
  } catch (error) {
    fix(`${label}: ${error.code ?? error.message}: is the bridge running and the port open?`)
  } finally {
    socket?.destroy()
  }
}

async function checkPop3(host, port, ok, fix) {
  const label = `POP3 ${host}:${port}`
  let socket
  try {
    socket = await connect(host, port)
    const talk = conversation(socket)
    const greeting = await talk.next(pop3Done)
    if (!greeting[0].startsWith('+OK'))
      return fix(`${label} greets with "${greeting[0]}": is it the bridge?`)
    ok(`${label} answers: ${greeting[0]}`)
    talk.send('CAPA')
    const capa = await talk.next(pop3ListDone)
    if (!capa.some((line) => /^STLS\b/i.test(line))) {
      return fix(
        `${label} offers no STLS: passwords would cross in clear text (set TLS_CERT and TLS_KEY on the bridge)`,
      )
    }
    talk.send('STLS')
    const ready = await talk.next(pop3Done)
    if (!ready[0].startsWith('+OK')) return fix(`${label} refuses STLS: ${ready[0]}`)
    talk.detach()
    const secure = await startTls(host, { socket })
    certificateLine(`${label} (STLS)`, host, secure, ok, fix)
    secure.end('QUIT\r\n')
  } catch (error) {
    fix(`${label}: ${error.code ?? error.message}: is the bridge running and the port open?`)
  } finally {
    socket?.destroy()
  }
}

async function checkPop3s(host, port, ok, fix) {
  const label = `POP3S ${host}:${port}`
  let secure
  try {
    secure = await startTls(host, { port })
    const greeting = await conversation(secure).next(pop3Done)
    if (!greeting[0].startsWith('+OK')) return fix(`${label} greets with "${greeting[0]}"`)
    ok(`${label} answers over TLS: ${greeting[0]}`)
    certificateLine(label, host, secure, ok, fix)
    secure.end('QUIT\r\n')
  } catch (error) {
    fix(
      `${label}: ${error.code ?? error.message}: is the bridge running with TLS and the port open?`,
    )
  } finally {
    secure?.destroy()
  }
}
