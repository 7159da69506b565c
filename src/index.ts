import { app } from './app'
import { consumeDeliveries } from './mail/fanout/deliveries'
import { receiveEmail } from './mail/inbound/receive'
import { scheduledRetention } from './mail/retention'

export default {
  fetch: app.fetch,
  email: (message, env) => receiveEmail(message, env),
  scheduled: (controller, env) => scheduledRetention(controller, env),
  queue: (batch, env) => consumeDeliveries(batch, env),
} satisfies ExportedHandler<Env>

export { RealtimeHub } from './durable/realtime-hub'
