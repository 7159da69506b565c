import { z } from 'zod'
import { EXAMPLE_DATE, EXAMPLE_ID, isoDate, listOf } from '../../http/openapi/common'
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

/** Most addresses one bulk request may reserve (OpenAPI: "The max addresses per request is 100"). */
export const MAX_BULK_ADDRESSES = 100

/** The body of `POST /api/private-addresses-bulk`. */
export const bulkBody = z.object({
  addresses: z.array(z.string()).min(1).max(MAX_BULK_ADDRESSES),
  _mailsacKey: z.string().optional(),
})

/** The query of `DELETE /api/addresses/:email`. */
export const deleteQuery = z.object({ deleteAddressMessages: z.enum(['true', 'false']).optional() })

// Response bodies.

const addressExample = {
  _id: 'mine@example.com',
  owner: 'alice',
  created: EXAMPLE_DATE,
  updated: EXAMPLE_DATE,
  enablews: false,
  enabledws: false,
  forward: null,
  webhook: 'https://hooks.example.net/mail',
  webhookSlack: null,
  webhookSlackToFrom: false,
  encryptedInbox: 'inbox-0f1e2d3c4b5a69788796a5b4c3d2e1f0@example.com',
  implicit: false,
  catchAll: null,
  info: null,
  webhookSecret: 'whsec_0123456789abcdef',
}

/** `addressJson()` in ./json.ts: a reserved (private) address. */
export const Address = z
  .object({
    _id: z.string().meta({ description: 'The address itself' }),
    owner: z.string().meta({ description: 'The account that reserved it' }),
    created: isoDate('When it was reserved'),
    updated: isoDate('When its settings last changed'),
    enablews: z.boolean().meta({ description: 'Publish its mail to websocket subscribers' }),
    enabledws: z
      .boolean()
      .meta({ description: "`enablews` again, as Mailsac's OpenAPI document spells it" }),
    forward: z.string().nullable().meta({ description: 'Forward its mail to this address' }),
    webhook: z.string().nullable().meta({ description: 'POST its mail to this URL' }),
    webhookSlack: z.string().nullable().meta({ description: 'Slack incoming-webhook URL' }),
    webhookSlackToFrom: z.boolean(),
    encryptedInbox: z.string().meta({ description: 'An alias delivering to this inbox' }),
    implicit: z.literal(false).meta({ description: 'Reserved on its own, not via a domain' }),
    catchAll: z.string().nullable().meta({ description: 'Always null: not a catch-all address' }),
    info: z.string().nullable(),
    webhookSecret: z
      .string()
      .nullable()
      .meta({ description: 'The key signing its webhook requests (owner only)' }),
  })
  .meta({ id: 'Address', description: 'A reserved private address.', example: addressExample })

export const AddressList = listOf(Address, 'AddressList')

/** GET /api/addresses/:email for an address nobody reserved. */
export const UnreservedAddress = z
  .object({
    _id: z.string(),
    enablews: z.literal(false),
    enabledws: z.literal(false),
    forward: z.null(),
    webhook: z.null(),
    webhookSlack: z.null(),
    owner: z.string().optional().meta({ description: 'Present at an owned domain' }),
    implicit: z.literal(true).optional().meta({ description: 'At an owned domain' }),
    catchAll: z.string().optional().meta({ description: 'The owned domain' }),
  })
  .meta({
    id: 'UnreservedAddress',
    description: 'An address nobody reserved; at an owned domain it names the domain owner.',
    example: {
      _id: 'anyone@example.com',
      enablews: false,
      enabledws: false,
      forward: null,
      webhook: null,
      webhookSlack: null,
    },
  })

export const AddressLookup = z.union([Address, UnreservedAddress]).meta({
  id: 'AddressLookup',
  example: addressExample,
})

export const AddressAvailability = z
  .object({ available: z.boolean(), email: z.string(), owned: z.boolean() })
  .meta({
    id: 'AddressAvailability',
    example: { available: true, email: 'free@example.com', owned: false },
  })

export const AddressReleased = z.object({ _id: z.string(), message: z.string() }).meta({
  id: 'AddressReleased',
  example: { _id: 'mine@example.com', message: 'Address was released.' },
})

export const BulkReservation = z
  .array(z.union([Address, z.object({ _id: z.string(), error: z.string(), message: z.string() })]))
  .meta({
    id: 'BulkReservation',
    description: 'One entry per requested address: the address, or why it was not reserved.',
    example: [
      addressExample,
      {
        _id: 'taken@example.com',
        error: 'Unauthorized',
        message: 'This address is owned by another account.',
      },
    ],
  })

/** `deliveryJson()` in ./json.ts. */
export const Delivery = z
  .object({
    _id: z.string(),
    address: z.string(),
    messageId: z.string(),
    kind: z.enum(['webhook', 'slack', 'forward']),
    target: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'dead']),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    created: isoDate('When the message arrived'),
    updated: isoDate('The last attempt'),
    deliveredAt: z.string().nullable().meta({ format: 'date-time' }),
  })
  .meta({
    id: 'Delivery',
    example: {
      _id: 'dlv_01',
      address: 'mine@example.com',
      messageId: EXAMPLE_ID,
      kind: 'webhook',
      target: 'https://hooks.example.net/mail',
      status: 'delivered',
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      created: EXAMPLE_DATE,
      updated: EXAMPLE_DATE,
      deliveredAt: EXAMPLE_DATE,
    },
  })

export const DeliveryList = listOf(Delivery, 'DeliveryList')
