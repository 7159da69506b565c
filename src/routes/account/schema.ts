import { z } from 'zod'
import { EXAMPLE_INBOX } from '../../http/openapi/common'

// The response bodies of /api/me.

/** POST /api/me/api-key. */
export const NewApiKey = z
  .object({
    _id: z.string().meta({ description: 'The username' }),
    apiKey: z.string().meta({ description: 'The new key: 64 letters and digits, shown once' }),
    csrfToken: z
      .string()
      .optional()
      .meta({ description: 'With a session cookie: the fresh session’s X-CSRF-Token' }),
  })
  .meta({
    id: 'NewApiKey',
    description: 'A newly issued API key; the previous one no longer works.',
    example: { _id: 'alice', apiKey: 'k'.repeat(64) },
  })

/** GET /api/me. */
export const Me = z
  .object({
    _id: z.string().meta({ description: 'The username' }),
    email: z.string().nullable(),
    messageLimit: z.number().int().meta({ description: 'Stored history the account may keep' }),
    sendsRemaining: z.number().int().meta({ description: 'Outbound message credits' }),
    catchAll: z.number().int(),
    privateAddressCredits: z.number().int(),
    recents: z.array(z.string()).meta({ description: 'Inboxes it listed lately, newest first' }),
    labels: z.array(z.string()).meta({ description: 'The labels on its mail, sorted' }),
    apiAccess: z.literal(1).meta({ description: 'Every account may use the API' }),
    noAds: z.literal(1),
  })
  .nullable()
  .meta({
    id: 'Me',
    description: 'The account of the key, or null when the key is missing or unknown.',
    example: {
      _id: 'alice',
      email: 'alice@example.net',
      messageLimit: 1000,
      sendsRemaining: 10,
      catchAll: 0,
      privateAddressCredits: 4,
      recents: [EXAMPLE_INBOX],
      labels: ['work'],
      apiAccess: 1,
      noAds: 1,
    },
  })

/** `accountStats()` in src/db/queries/account-stats.ts. */
export const AccountStats = z
  .object({
    storedMessages: z.number().int(),
    starredMessages: z.number().int(),
    inboxBytes: z.number().int(),
    recycledMessages: z.number().int(),
    addresses: z.array(z.string()),
    domains: z.array(z.string()),
    nonOwnedInboxes: z.array(z.string()),
  })
  .meta({
    id: 'AccountStats',
    example: {
      storedMessages: 12,
      starredMessages: 2,
      inboxBytes: 48211,
      recycledMessages: 0,
      addresses: ['mine@example.com'],
      domains: ['mine.example'],
      nonOwnedInboxes: [EXAMPLE_INBOX],
    },
  })
