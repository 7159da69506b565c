import { Hono } from 'hono'
import { z } from 'zod'
import journal from '../../../migrations/meta/_journal.json'
import { bearerToken } from '../../http/auth'
import { database } from '../../db/client'
import { appliedMigrations } from '../../db/queries/migrations'
import type { AppEnv } from '../../env'
import { describe, json, OPERATOR } from '../../http/openapi/describe'

/**
 * `/internal/admin/migrations`: which of the migrations this Worker was built with D1 has
 * applied, so `npm run admin -- doctor` can tell a deploy whose `d1 migrations apply` was
 * forgotten (every query on a new column then fails) from one that is merely empty.
 */
export const adminMigrationsRoutes = new Hono<AppEnv>()

adminMigrationsRoutes.use('*', bearerToken('ADMIN_TOKEN'))

/** The migrations bundled with this Worker, by file name, as wrangler records them. */
const BUNDLED = journal.entries.map((entry) => `${entry.tag}.sql`)

const MigrationStatus = z
  .object({
    bundled: z.array(z.string()),
    applied: z.array(z.string()),
    missing: z.array(z.string()).meta({ description: 'Bundled but not applied: apply them' }),
  })
  .meta({
    id: 'MigrationStatus',
    example: {
      bundled: ['0000_init.sql', '0001_accounts_domains_denylist.sql'],
      applied: ['0000_init.sql'],
      missing: ['0001_accounts_domains_denylist.sql'],
    },
  })

adminMigrationsRoutes.get(
  '/',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Compare the applied D1 migrations with the bundled ones',
    responses: { 200: json(MigrationStatus, 'Bundled, applied and missing migrations') },
  }),
  async (c) => {
    const applied = await appliedMigrations(database(c.env.DB))
    const done = new Set(applied)
    return c.json({ bundled: BUNDLED, applied, missing: BUNDLED.filter((name) => !done.has(name)) })
  },
)
