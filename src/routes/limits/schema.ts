import { z } from 'zod'
import { FaultRule } from '../../mail/faults'

// The response body of /api/limits.

const windowLimit = z.object({
  requests: z.number().int(),
  periodSeconds: z.number().int(),
  per: z.string(),
})
const listLimit = z.object({ defaultLimit: z.number().int(), maxLimit: z.number().int() })

/** Who outbound mail can reach: the same text in the response and the documentation. */
export const OUTBOUND_RULES = {
  reachable:
    "Inboxes of this service, and through Email Routing's send_email binding the account's verified destination addresses only.",
  others:
    "Any other recipient is refused (400, with Cloudflare's reason) until the sending domain is onboarded to Cloudflare Email Service (Workers Paid), which takes at most 50 recipients and 5 MiB per message (25 MiB to verified addresses).",
  onboarding:
    'Cloudflare dashboard: Email Routing (verify destination addresses), or Email Service: onboard the domain and publish the SPF and DKIM records it shows.',
}

/** Where injected faults are answered (#17.6). */
export const FAULTS_APPLY_TO =
  "SMTP ingest (the bridge's MAIL, RCPT and DATA replies) and Email Routing; a faulted message is not stored."

const OUTBOUND_EXAMPLE = { maxRecipients: 3, maxBytes: 26214400, ...OUTBOUND_RULES }

/** GET /api/limits. */
export const Limits = z
  .object({
    retention: z.object({
      publicMessageHours: z.number().int(),
      publicInboxMaxMessages: z.number().int(),
      appliesTo: z.string(),
      neverDeleted: z.string(),
    }),
    messages: z.object({
      maxBytes: z.number().int(),
      maxRecipients: z.number().int(),
      maxAttachments: z.number().int(),
      storedAddressesPerHeader: z.number().int(),
    }),
    outbound: z.object({
      maxRecipients: z.number().int(),
      maxBytes: z.number().int(),
      reachable: z.string(),
      others: z.string(),
      onboarding: z.string(),
    }),
    lists: z.object({ messages: listLimit, mailstats: listLimit }),
    rateLimits: z.object({
      enabled: z.boolean().meta({
        description: 'false on a local stack started with npm start (RATE_LIMITS=off)',
      }),
      apiKey: windowLimit,
      anonymous: windowLimit,
    }),
    faults: z
      .object({
        rules: z.array(FaultRule),
        source: z.enum(['runtime', 'SMTP_FAULTS']),
        appliesTo: z.string(),
      })
      .nullable()
      .meta({
        description:
          'SMTP fault injection (PUT /internal/faults, else SMTP_FAULTS): null while off, the default',
      }),
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
      messages: {
        maxBytes: 26214400,
        maxRecipients: 100,
        maxAttachments: 100,
        storedAddressesPerHeader: 1000,
      },
      outbound: OUTBOUND_EXAMPLE,
      lists: {
        messages: { defaultLimit: 20, maxLimit: 1000 },
        mailstats: { defaultLimit: 20, maxLimit: 1000 },
      },
      rateLimits: {
        enabled: true,
        apiKey: { requests: 1200, periodSeconds: 60, per: 'API key' },
        anonymous: { requests: 600, periodSeconds: 60, per: 'client IP address (IPv6: per /64)' },
      },
      faults: null,
    },
  })
