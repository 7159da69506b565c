// Bundles the Worker as `wrangler deploy` would, without deploying (offline), and prints the
// compressed size next to the plan limits. Workers limits
// (https://developers.cloudflare.com/workers/platform/limits/): "Worker size: 3 MB (Free) /
// 10 MB (Paid)", measured after compression. Exits 1 when the bundle passes the Paid limit.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const FREE = 3 * 1024 * 1024
const PAID = 10 * 1024 * 1024
const outdir = mkdtempSync(join(tmpdir(), 'mailsac-edge-bundle-'))
execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
})

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}
const modules = files(outdir).filter((path) => !path.endsWith('.map'))
const raw = modules.reduce((sum, path) => sum + statSync(path).size, 0)
const gzip = modules.reduce((sum, path) => sum + gzipSync(readFileSync(path)).byteLength, 0)
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`
console.log(
  `worker bundle: ${mb(raw)} raw, ${mb(gzip)} gzip; limit ${mb(FREE)} (Free), ${mb(PAID)} (Paid)`,
)
if (gzip > FREE) console.log('the bundle needs Workers Paid (over the Free plan size limit)')
if (gzip > PAID) process.exit(1)
