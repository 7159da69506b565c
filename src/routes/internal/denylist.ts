import { Hono } from 'hono'
import { z } from 'zod'
import { bearerToken } from '../../http/auth'
import { database } from '../../db/client'
import {
  addDenylistEntry,
  listDenylist,
  removeDenylistEntry,
  type DenylistEntry,
} from '../../db/queries/denylist'
import { fail } from '../../http/errors'
import { normalizeDenylistEntry } from '../../mail/inbound/denylist'
import type { AppEnv } from '../../env'
import { validate } from '../../http/validation'
import { describe, json, OPERATOR, pathParam } from '../../http/openapi/describe'
import { Denylist, DenylistEntry as DenylistEntryBody, DenylistRemoved } from './schema'

/**
 * Operator routes for the deny-list (`npm run admin -- denylist ...`):
 * `/internal/admin/denylist`, behind ADMIN_TOKEN. Listed sender domains and client IPs are
 * refused at ingest and shown by GET /api/mailstats/blacklist.
 */
export const adminDenylistRoutes = new Hono<AppEnv>()

adminDenylistRoutes.use('*', bearerToken('ADMIN_TOKEN'))

function entryJson(row: DenylistEntry) {
  return { entry: row.entry, reason: row.reason, created: row.created.toISOString() }
}

function entryParam(input: string): string {
  const entry = normalizeDenylistEntry(input)
  if (!entry) fail(400, `Invalid entry: ${input} is neither a domain nor an IP address.`)
  return entry
}

const addition = z.object({ reason: z.string().trim().max(500).nullish() })

adminDenylistRoutes.get(
  '/',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'List the deny-list',
    responses: { 200: json(Denylist, 'Every entry') },
  }),
  async (c) => {
    const rows = await listDenylist(database(c.env.DB))
    return c.json({ entries: rows.map(entryJson) })
  },
)

// PUT is idempotent (adding a listed entry updates its reason); POST is accepted as well.
for (const method of ['put', 'post'] as const) {
  adminDenylistRoutes[method](
    '/:entry',
    describe({
      tag: OPERATOR,
      access: 'admin',
      summary: `Add a deny-list entry (${method.toUpperCase()})`,
      description:
        'A sender domain or client IP refused at ingest. Adding a listed entry updates its reason.',
      parameters: [
        pathParam('entry', 'A domain or an IP address', { type: 'string' }, 'spam.example'),
      ],
      responses: { 200: json(DenylistEntryBody, 'The entry') },
      failures: { 400: 'Invalid entry: x is neither a domain nor an IP address.' },
    }),
    validate('json', addition),
    async (c) => {
      const entry = entryParam(c.req.param('entry'))
      const row = await addDenylistEntry(
        database(c.env.DB),
        entry,
        c.req.valid('json').reason ?? null,
      )
      return c.json(entryJson(row))
    },
  )
}

adminDenylistRoutes.delete(
  '/:entry',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Remove a deny-list entry',
    parameters: [
      pathParam('entry', 'A domain or an IP address', { type: 'string' }, 'spam.example'),
    ],
    responses: { 200: json(DenylistRemoved, 'Removed') },
    failures: {
      400: 'Invalid entry: x is neither a domain nor an IP address.',
      404: 'spam.example is not on the deny-list.',
    },
  }),
  async (c) => {
    const entry = entryParam(c.req.param('entry'))
    if (!(await removeDenylistEntry(database(c.env.DB), entry))) {
      fail(404, `${entry} is not on the deny-list.`)
    }
    return c.json({ entry, message: 'Removed from the deny-list.' })
  },
)
