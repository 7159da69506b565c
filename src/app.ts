import { Hono } from 'hono'
import { mailsacKeyAuth } from './http/auth'
import { handleError, handleNotFound } from './http/errors'
import { API_RATE_LIMIT_PERIOD_SECONDS } from './limits'
import { rateLimit } from './http/rate-limit'
import { accountRoutes } from './routes/account/index'
import { addressesRoutes, addressExtrasRoutes } from './routes/addresses/index'
import { adminRoutes } from './routes/internal/accounts'
import { adminDenylistRoutes } from './routes/internal/denylist'
import { adminDomainsRoutes } from './routes/internal/domains'
import { authRoutes } from './routes/auth/index'
import { contentRoutes } from './routes/content/index'
import { deliveriesRoutes } from './routes/addresses/deliveries'
import { domainsRoutes } from './routes/domains/index'
import { inboxRoutes } from './routes/inbox/index'
import { ingestRoutes } from './routes/internal/ingest'
import { limitsRoutes } from './routes/limits/index'
import { mailstatsRoutes } from './routes/mailstats/index'
import { messagesRoutes } from './routes/messages/index'
import { outgoingRoutes } from './routes/outgoing/index'
import { realtimeRoutes } from './routes/realtime/index'
import { referenceRoutes } from './routes/reference/index'
import { waitRoutes } from './routes/waits/index'
import type { AppEnv } from './env'
import { webRoutes } from './web/routes'

/** The HTTP application: one router per resource. */
export const app = new Hono<AppEnv>()

// Before the key/cookie middleware: logging in must work whatever stale cookie the browser
// still sends, and needs no CSRF token (it needs the API key itself).
app.route('/api/auth', authRoutes)

app.use('/api/*', mailsacKeyAuth({ lenient: (path) => path === '/api/me' }))
app.use(
  '/api/*',
  rateLimit({
    perAccount: (env) => env.API_KEY_RATE_LIMIT,
    perClient: (env) => env.ANONYMOUS_RATE_LIMIT,
    periodSeconds: API_RATE_LIMIT_PERIOD_SECONDS,
  }),
)
app.route('/api/me', accountRoutes)
app.route('/api/addresses', messagesRoutes)
app.route('/api/addresses', addressesRoutes)
app.route('/api/addresses', deliveriesRoutes)
app.route('/api/addresses', waitRoutes)
app.route('/api', addressExtrasRoutes)
app.route('/api/domains', domainsRoutes)
app.route('/api', inboxRoutes)
app.route('/api', contentRoutes)
app.route('/api/mailstats', mailstatsRoutes)
app.route('/api/limits', limitsRoutes)
app.route('/api/outgoing-messages', outgoingRoutes)
// Mailsac's websocket path, outside /api: the key comes in the query string (`?key=`).
app.route('/incoming-messages', realtimeRoutes)
app.route('/internal/ingest', ingestRoutes)
app.route('/internal/admin/domains', adminDomainsRoutes)
app.route('/internal/admin/denylist', adminDenylistRoutes)
app.route('/internal/admin', adminRoutes)
// /api/openapi.json (behind the key middleware like every /api route) and /docs.
app.route('/', referenceRoutes(app))
// Last: the pages' middleware (session, CSP) must not wrap the API routes above.
app.route('/', webRoutes)

app.notFound(handleNotFound)
app.onError(handleError)
