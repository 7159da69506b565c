import { Hono } from 'hono'
import { mailsacKeyAuth } from './http/auth'
import { handleError, handleNotFound } from './http/errors'
import { API_RATE_LIMIT_PERIOD_SECONDS } from './limits'
import { limitClient, rateLimit } from './http/rate-limit'
import { accountRoutes } from './routes/account/index'
import { addressesRoutes } from './routes/addresses/index'
import { authRoutes } from './routes/auth/index'
import { contentRoutes } from './routes/content/index'
import { domainsRoutes } from './routes/domains/index'
import { inboxRoutes } from './routes/inbox/index'
import { internalRoutes } from './routes/internal/index'
import { limitsRoutes } from './routes/limits/index'
import { mailstatsRoutes } from './routes/mailstats/index'
import { messagesRoutes } from './routes/messages/index'
import { outgoingRoutes } from './routes/outgoing/index'
import { validationsRoutes } from './routes/validations'
import { realtimeRoutes } from './routes/realtime/index'
import { referenceRoutes } from './routes/reference/index'
import { waitRoutes } from './routes/waits/index'
import type { AppEnv } from './env'
import { webRoutes } from './web/routes'

/** The HTTP application: one router per resource. */
export const app = new Hono<AppEnv>()

const apiRateLimit = rateLimit({
  perAccount: (env) => env.API_KEY_RATE_LIMIT,
  perClient: (env) => env.ANONYMOUS_RATE_LIMIT,
  periodSeconds: API_RATE_LIMIT_PERIOD_SECONDS,
})

// Before the key/cookie middleware: logging in must work whatever stale cookie the browser
// still sends, and needs no CSRF token (it needs the API key itself). Every sign-in attempt
// counts against the client's budget, so it is no free oracle for guessing keys.
app.use('/api/auth/*', apiRateLimit)
app.route('/api/auth', authRoutes)

app.use(
  '/api/*',
  mailsacKeyAuth({
    lenient: (path) => path === '/api/me',
    // A wrong key is a 401 before the per-account limiter: count it per client here.
    onWrongKey: (c) => limitClient(c, c.env.ANONYMOUS_RATE_LIMIT, API_RATE_LIMIT_PERIOD_SECONDS),
  }),
)
app.use('/api/*', apiRateLimit)

// Which router owns which paths. Four share a prefix; their paths are disjoint:
//
//   /api/addresses/starred/messages            messages  (see the order note below)
//   /api/addresses/:email/messages...          messages
//   /api/addresses/:email/message-count        messages
//   /api/addresses[/:email[/...]]              addresses (availability, webhook-secret,
//   /api/private-address-forwarding/:email     addresses  webhook-deliveries)
//   /api/private-addresses-bulk                addresses
//   /api/inbox, /api/inbox-filter, /api/inbox-search       inbox
//   /api/{headers,body,dirty,text,raw}/:email/:messageId   content
//
// Order: Hono tries routes in registration order, and GET /api/addresses/starred/messages also
// matches /:email/messages. The messages router registers `/starred/messages` first so
// "starred" is never read as an address; it is mounted before addresses so no route of
// theirs can come ahead of it either.
app.route('/api/me', accountRoutes)
app.route('/api/addresses', messagesRoutes)
app.route('/api', addressesRoutes)
app.route('/api/addresses', waitRoutes)
app.route('/api/domains', domainsRoutes)
app.route('/api', inboxRoutes)
app.route('/api', contentRoutes)
app.route('/api/mailstats', mailstatsRoutes)
app.route('/api/limits', limitsRoutes)
app.route('/api/outgoing-messages', outgoingRoutes)
app.route('/api/validations', validationsRoutes)
// Mailsac's websocket path, outside /api: the key comes in the query string (`?key=`).
app.route('/incoming-messages', realtimeRoutes)
// Ingest and the operator routes, behind bearer tokens (their order: src/routes/internal/index.ts).
app.route('/internal', internalRoutes)
// /api/openapi.json (behind the key middleware like every /api route) and /docs.
app.route('/', referenceRoutes(app))
// Last: the pages' middleware (session, CSP) must not wrap the API routes above.
app.route('/', webRoutes)

app.notFound(handleNotFound)
app.onError(handleError)
