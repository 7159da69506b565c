import { app } from './app'
import { DOMAIN_RECHECK_CRON, scheduledDomainRecheck } from './mail/domain-recheck'
import { consumeDeliveries } from './mail/fanout/deliveries'
import { receiveEmail } from './mail/inbound/receive'
import { scheduledRetention } from './mail/retention'

export default {
  fetch: app.fetch,
  email: (message, env) => receiveEmail(message, env),
  scheduled: (controller, env) =>
    controller.cron === DOMAIN_RECHECK_CRON
      ? scheduledDomainRecheck(controller, env)
      : scheduledRetention(controller, env),
  queue: (batch, env) => consumeDeliveries(batch, env),
} satisfies ExportedHandler<Env>

export { RealtimeHub } from './durable/realtime-hub'
