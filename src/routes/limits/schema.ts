import { z } from 'zod'

// The response body of /api/limits.

const windowLimit = z.object({
  requests: z.number().int(),
  periodSeconds: z.number().int(),
  per: z.string(),
})
const listLimit = z.object({ defaultLimit: z.number().int(), maxLimit: z.number().int() })

/** GET /api/limits. */
export const Limits = z
  .object({
    retention: z.object({
      publicMessageHours: z.number().int(),
      publicInboxMaxMessages: z.number().int(),
      appliesTo: z.string(),
      neverDeleted: z.string(),
    }),
    messages: z.object({ maxBytes: z.number().int(), maxRecipients: z.number().int() }),
    lists: z.object({ messages: listLimit, mailstats: listLimit }),
    rateLimits: z.object({ apiKey: windowLimit, anonymous: windowLimit }),
  })
  .meta({
    id: 'Limits',
    example: {
      retention: {
        publicMessageHours: 96,
        publicInboxMaxMessages: 100,
        appliesTo: 'unstarred messages of public inboxes, oldest first',
        neverDeleted: 'starred messages, reserved addresses, owned domains',
      },
      messages: { maxBytes: 26214400, maxRecipients: 100 },
      lists: {
        messages: { defaultLimit: 20, maxLimit: 1000 },
        mailstats: { defaultLimit: 20, maxLimit: 1000 },
      },
      rateLimits: {
        apiKey: { requests: 1200, periodSeconds: 60, per: 'API key' },
        anonymous: { requests: 600, periodSeconds: 60, per: 'client IP address (IPv6: per /64)' },
      },
    },
  })
