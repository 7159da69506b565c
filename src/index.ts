import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { mailsacKeyAuth } from './auth'
import { statusText } from './errors'
import { receiveEmail } from './mail/receive'
import { accountRoutes } from './routes/account'
import { addressesRoutes } from './routes/addresses'
import { adminRoutes } from './routes/admin'
import { contentRoutes } from './routes/content'
import { ingestRoutes } from './routes/ingest'
import { messagesRoutes } from './routes/messages'
import type { AppEnv } from './types'

const app = new Hono<AppEnv>()

app.use('/api/*', mailsacKeyAuth({ lenient: (path) => path === '/api/me' }))
app.route('/api/me', accountRoutes)
app.route('/api/addresses', messagesRoutes)
app.route('/api/addresses', addressesRoutes)
app.route('/api', contentRoutes)
app.route('/internal/ingest', ingestRoutes)
app.route('/internal/admin', adminRoutes)

app.notFound((c) =>
  c.json({ error: 'Not Found', message: `No route for ${c.req.method} ${c.req.path}` }, 404),
)

app.onError((error, c) => {
  if (error instanceof HTTPException) {
    return c.json({ error: statusText(error.status), message: error.message }, error.status)
  }
  console.error(`unhandled error on ${c.req.method} ${c.req.path}: ${error.message}`)
  return c.json({ error: statusText(500), message: 'Something went wrong; try again later.' }, 500)
})

export default {
  fetch: app.fetch,
  email: (message, env) => receiveEmail(message, env),
} satisfies ExportedHandler<Env>
