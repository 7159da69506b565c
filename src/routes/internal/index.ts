import { Hono } from 'hono'
import type { AppEnv } from '../../env'
import { adminRoutes } from './accounts'
import { adminDenylistRoutes } from './denylist'
import { adminDomainsRoutes } from './domains'
import { adminMigrationsRoutes } from './migrations'
import { faultsRoutes } from './faults'
import { ingestRoutes } from './ingest'

/**
 * The operator side, mounted at `/internal`: ingest for the SMTP bridge (INGEST_TOKEN) and the
 * admin routes of `npm run admin` (ADMIN_TOKEN). Each part checks its own bearer token with a
 * `use('*')`, never an API key.
 *
 * Mount order: `/admin` (accounts) last. Its `use('*')` becomes `/admin/*`, which also matches
 * the domains and deny-list paths; mounted after them, their own ADMIN_TOKEN check runs first
 * and answers, as it always has. The paths themselves are disjoint.
 */
export const internalRoutes = new Hono<AppEnv>()

internalRoutes.route('/ingest', ingestRoutes)
internalRoutes.route('/faults', faultsRoutes)
internalRoutes.route('/admin/domains', adminDomainsRoutes)
internalRoutes.route('/admin/denylist', adminDenylistRoutes)
internalRoutes.route('/admin/migrations', adminMigrationsRoutes)
internalRoutes.route('/admin', adminRoutes)
