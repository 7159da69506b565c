import { z } from 'zod'
import { normalizeAddress } from '../../lib/address'
import { webhookTargetProblem } from '../../mail/fanout/webhook-target'

/** `""` and `null` both mean "off" (seed: set to "" or null to disable). */
const off = z.union([z.literal(''), z.null()]).transform(() => null)

/** A webhook URL that passes the SSRF rules of `webhookTargetProblem`. */
function webhookUrl(allowLocal: boolean) {
  return z.string().transform((value, ctx) => {
    const problem = webhookTargetProblem(value, allowLocal)
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem })
      return z.NEVER
    }
    return new URL(value).toString()
  })
}

const forwardAddress = z.string().transform((value, ctx) => {
  const address = normalizeAddress(value)
  if (!address) {
    ctx.addIssue({ code: 'custom', message: 'not an email address' })
    return z.NEVER
  }
  return address
})

/**
 * The body of `PUT /api/addresses/:email` and `PUT /api/private-address-forwarding/:email`.
 * Fields left out keep their value. The delivery itself (webhooks, forwarding, websockets)
 * is the real-time pipeline's job (src/mail/fanout/notify.ts, src/mail/fanout/deliveries.ts); here the
 * settings are only validated and stored.
 */
export function addressSettingsSchema(allowLocalWebhooks: boolean) {
  return z.object({
    forward: z.union([off, forwardAddress]).optional(),
    enablews: z.boolean().optional(),
    webhook: z.union([off, webhookUrl(allowLocalWebhooks)]).optional(),
    webhookSlack: z.union([off, webhookUrl(false)]).optional(),
    webhookSlackToFrom: z.boolean().optional(),
    info: z.union([off, z.string().max(1000)]).optional(),
    _mailsacKey: z.string().optional(),
  })
}
