import { z } from 'zod'
import { EXAMPLE_DATE, EXAMPLE_ID, EXAMPLE_INBOX, isoDate } from '../../http/openapi/common'
import { FaultRule, FaultRules } from '../../mail/faults'

// The response bodies of the operator routes (`/internal/*`).

const storedExample = { _id: EXAMPLE_ID, inbox: EXAMPLE_INBOX }
const StoredMessage = z.object({ _id: z.string(), inbox: z.string() })

export const IngestResult = z
  .object({ messages: z.array(StoredMessage) })
  .meta({ id: 'IngestResult', example: { messages: [storedExample] } })

export const IngestBatchResult = z
  .object({
    results: z.array(
      z.union([
        z.object({ messages: z.array(StoredMessage) }),
        z.object({ status: z.number().int(), error: z.string(), message: z.string() }),
      ]),
    ),
  })
  .meta({
    id: 'IngestBatchResult',
    example: {
      results: [
        { messages: [storedExample] },
        { status: 403, error: 'Forbidden', message: 'The sender is on the deny-list.' },
      ],
    },
  })

const adminAccountExample = {
  _id: 'alice',
  email: 'alice@example.net',
  messageLimit: 1000,
  privateAddressCredits: 5,
  sendsRemaining: 0,
  created: EXAMPLE_DATE,
}

export const AdminAccount = z
  .object({
    _id: z.string(),
    email: z.string().nullable(),
    messageLimit: z.number().int(),
    privateAddressCredits: z.number().int(),
    sendsRemaining: z.number().int(),
    created: isoDate('When it was created'),
  })
  .meta({ id: 'AdminAccount', example: adminAccountExample })

export const AdminAccountCreated = AdminAccount.extend({
  apiKey: z.string().meta({ description: 'Shown once; only its hash is stored' }),
}).meta({
  id: 'AdminAccountCreated',
  example: { ...adminAccountExample, apiKey: 'k'.repeat(64) },
})

export const ApiKey = z
  .object({ _id: z.string(), apiKey: z.string() })
  .meta({ id: 'ApiKey', example: { _id: 'alice', apiKey: 'k'.repeat(64) } })

export const Sends = z
  .object({ _id: z.string(), sendsRemaining: z.number().int() })
  .meta({ id: 'Sends', example: { _id: 'alice', sendsRemaining: 25 } })

export const Released = z
  .object({ _id: z.string(), message: z.string() })
  .meta({ id: 'Released', example: { _id: 'alice', message: 'Account was deleted.' } })

const denylistExample = { entry: 'spam.example', reason: 'bulk mail', created: EXAMPLE_DATE }

export const DenylistEntry = z
  .object({ entry: z.string(), reason: z.string().nullable(), created: isoDate('When added') })
  .meta({ id: 'DenylistEntry', example: denylistExample })

export const Denylist = z
  .object({ entries: z.array(DenylistEntry) })
  .meta({ id: 'Denylist', example: { entries: [denylistExample] } })

export const DenylistRemoved = z.object({ entry: z.string(), message: z.string() }).meta({
  id: 'DenylistRemoved',
  example: { entry: 'spam.example', message: 'Removed from the deny-list.' },
})

/** GET /internal/faults: the SMTP fault-injection rules, or null while off. */
export const FaultsBody = z
  .object({
    rules: z.array(FaultRule).nullable(),
    source: z.enum(['runtime', 'SMTP_FAULTS']).meta({
      description: 'runtime: set by PUT /internal/faults (until DELETE); else the SMTP_FAULTS var',
    }),
  })
  .meta({
    id: 'Faults',
    example: {
      rules: [{ stage: 'rcpt', code: 451, probability: 0.5, domain: 'flaky.example' }],
      source: 'runtime',
    },
  })

/** PUT /internal/faults: the rules to apply from now on (`[]` turns injection off until DELETE). */
export const FaultsUpdate = z
  .object({ rules: FaultRules })
  .strict()
  .meta({
    id: 'FaultsUpdate',
    example: { rules: [{ stage: 'rcpt', code: 451, probability: 0.5, domain: 'flaky.example' }] },
  })
