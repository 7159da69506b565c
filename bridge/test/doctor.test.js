import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HOST, stack } from './helpers.js'
import { freePort, repoRoot } from './stack.js'

// Issue #16 item 8: `npm run admin -- doctor` against the real local stack (wrangler dev and
// the bridge with its self-signed, two-day certificate), through the CLI as an operator runs it.

/**
 * @param {string[]} args
 * @param {Record<string, string>} env
 */
async function runDoctor(args, env) {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/admin.mjs'), 'doctor', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: '/',
  })
  let stdout = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  const [code] = await once(child, 'exit')
  return { code, lines: stdout.trim().split('\n') }
}

describe('npm run admin -- doctor (issue #16 item 8)', () => {
  it('reports the Worker, tokens, migrations and the bridge ports with their certificate', async () => {
    const s = stack()
    const { code, lines } = await runDoctor(
      [
        '--url',
        s.apiUrl,
        '--bridge',
        HOST,
        '--smtp-port',
        String(s.smtpPort),
        '--pop3-port',
        String(s.pop3Port),
        '--pop3s-port',
        String(s.pop3sPort),
      ],
      { ADMIN_TOKEN: s.adminToken, INGEST_TOKEN: s.ingestToken },
    )
    expect(lines).toContain(`ok   Worker reachable at ${s.apiUrl}`)
    expect(lines).toContain('ok   ADMIN_TOKEN accepted')
    expect(lines).toContain('ok   INGEST_TOKEN accepted (the bridge can deliver)')
    expect(lines.find((l) => l.includes('migrations applied'))).toMatch(
      /^ok   migrations applied \(\d+, newest \d+_\w+\.sql\)$/,
    )
    expect(lines.find((l) => l.includes(`SMTP ${HOST}:${s.smtpPort} answers`))).toMatch(
      /^ok   .* answers: 220 /,
    )
    expect(lines.find((l) => l.includes(`POP3 ${HOST}:${s.pop3Port} answers`))).toMatch(
      /^ok   .* answers: \+OK/,
    )
    expect(lines.find((l) => l.includes(`POP3S ${HOST}:${s.pop3sPort} answers`))).toMatch(/^ok   /)
    // The test certificate is self-signed, names localhost and lasts two days: all three said.
    const certificates = lines.filter((l) => l.includes('TLS certificate of'))
    expect(certificates).toHaveLength(3)
    for (const line of certificates) {
      expect(line).toMatch(
        /^FIX  TLS certificate of .*: not trusted \(\w+\); does not name 127\.0\.0\.1 \(localhost\); expires in [01] day\(s\)/,
      )
    }
    expect(certificates[0]).toContain(`SMTP ${HOST}:${s.smtpPort} (STARTTLS)`)
    expect(certificates[1]).toContain(`POP3 ${HOST}:${s.pop3Port} (STLS)`)
    expect(code).toBe(1)
  })

  it('says which token is wrong and which port does not answer', async () => {
    const s = stack()
    const closed = await freePort()
    const { code, lines } = await runDoctor(
      [
        '--url',
        s.apiUrl,
        '--bridge',
        HOST,
        '--smtp-port',
        String(closed),
        '--pop3-port',
        String(s.pop3Port),
        '--pop3s-port',
        String(s.pop3sPort),
      ],
      { ADMIN_TOKEN: 'wrong', INGEST_TOKEN: 'wrong' },
    )
    expect(lines).toContain(
      'FIX  ADMIN_TOKEN is refused by the Worker: it differs from the Worker secret (wrangler secret put ADMIN_TOKEN).',
    )
    expect(lines).toContain(
      'FIX  INGEST_TOKEN is refused by the Worker: the bridge cannot deliver; give both the same secret.',
    )
    expect(lines).toContain(
      `FIX  SMTP ${HOST}:${closed}: ECONNREFUSED: is the bridge running and the port open?`,
    )
    expect(code).toBe(1)
  })

  it('says when the Worker is not there at all', async () => {
    const url = `http://${HOST}:${await freePort()}`
    const { code, lines } = await runDoctor(['--url', url], { ADMIN_TOKEN: 'x', INGEST_TOKEN: 'y' })
    expect(lines).toEqual([
      `FIX  Worker at ${url} does not answer GET /api/limits (ECONNREFUSED): check the URL and that it is deployed.`,
    ])
    expect(code).toBe(1)
  })
})
