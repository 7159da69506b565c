import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ADMIN, call, json } from '../../requests'

// Issue #16 item 8 (doctor): the operator can see whether D1 has every bundled migration.

type Status = { bundled: string[]; applied: string[]; missing: string[] }

describe('GET /internal/admin/migrations', () => {
  it('lists every bundled migration as applied once they are, newest included', async () => {
    const status = await json<Status>('/internal/admin/migrations', { headers: ADMIN })
    expect(status.bundled[0]).toBe('0000_init.sql')
    expect(status.bundled.some((name) => name.endsWith('_domain_verification.sql'))).toBe(true)
    expect(status.applied).toEqual(status.bundled)
    expect(status.missing).toEqual([])
  })

  it('names a migration D1 has not applied', async () => {
    const newest = (
      await json<Status>('/internal/admin/migrations', { headers: ADMIN })
    ).bundled.at(-1)
    await env.DB.prepare('DELETE FROM d1_migrations WHERE name = ?').bind(newest).run()
    try {
      const status = await json<Status>('/internal/admin/migrations', { headers: ADMIN })
      expect(status.missing).toEqual([newest])
    } finally {
      await env.DB.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(newest).run()
    }
  })

  it('is for the operator only', async () => {
    expect((await call('/internal/admin/migrations')).status).toBe(401)
  })
})
