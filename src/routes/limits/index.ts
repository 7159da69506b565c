import { rateLimitsOn } from '../../http/rate-limit'
import { Hono } from 'hono'
import {
  ANONYMOUS_RATE_LIMIT,
  API_KEY_RATE_LIMIT,
  API_RATE_LIMIT_PERIOD_SECONDS,
  DEFAULT_LIST_LIMIT,
  DEFAULT_STATS_LIMIT,
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_LIST_LIMIT,
  MAX_MESSAGE_BYTES,
  MAX_OUTGOING_RECIPIENTS,
  MAX_RECIPIENTS_PER_MESSAGE,
  MAX_STATS_LIMIT,
  MAX_STORED_RECIPIENTS_PER_FIELD,
} from '../../limits'
import { retentionSettings } from '../../mail/retention'
import { activeFaults } from '../../mail/faults'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { describe, json } from '../../http/openapi/describe'
import { FAULTS_APPLY_TO, Limits, OUTBOUND_RULES } from './schema'

/** `GET /api/limits`: the service's retention rules and limits, so clients need not guess. */
export const limitsRoutes = new Hono<AppEnv>()

limitsRoutes.get(
  '/',
  describe({
    tag: 'Service',
    access: 'anyone',
    summary: 'Get retention rules and limits',
    description:
      'How long public mail is kept, message and list limits, rate limits, and who outbound mail can reach.',
    responses: { 200: json(Limits, 'The limits of this deployment') },
  }),
  async (c) => {
    const retention = retentionSettings(c.env)
    const faults = await activeFaults(database(c.env.DB), c.env)
    return c.json({
      retention: {
        publicMessageHours: retention.publicRetentionHours,
        publicInboxMaxMessages: retention.publicInboxMaxMessages,
        appliesTo: 'unstarred messages of public inboxes, oldest first',
        neverDeleted: 'starred messages, reserved addresses, owned domains',
      },
      messages: {
        maxBytes: MAX_MESSAGE_BYTES,
        maxRecipients: MAX_RECIPIENTS_PER_MESSAGE,
        maxAttachments: MAX_ATTACHMENTS_PER_MESSAGE,
        storedAddressesPerHeader: MAX_STORED_RECIPIENTS_PER_FIELD,
      },
      outbound: {
        maxRecipients: MAX_OUTGOING_RECIPIENTS,
        maxBytes: MAX_MESSAGE_BYTES,
        ...OUTBOUND_RULES,
      },
      lists: {
        messages: { defaultLimit: DEFAULT_LIST_LIMIT, maxLimit: MAX_LIST_LIMIT },
        mailstats: { defaultLimit: DEFAULT_STATS_LIMIT, maxLimit: MAX_STATS_LIMIT },
      },
      rateLimits: {
        enabled: rateLimitsOn(c.env),
        apiKey: {
          requests: API_KEY_RATE_LIMIT,
          periodSeconds: API_RATE_LIMIT_PERIOD_SECONDS,
          per: 'API key',
        },
        anonymous: {
          requests: ANONYMOUS_RATE_LIMIT,
          periodSeconds: API_RATE_LIMIT_PERIOD_SECONDS,
          per: 'client IP address (IPv6: per /64)',
        },
      },
      // #17.6: shown while on, so nobody mistakes an injected 451 for an outage.
      faults: faults.on
        ? { rules: faults.rules, source: faults.source, appliesTo: FAULTS_APPLY_TO }
        : null,
    })
  },
)
