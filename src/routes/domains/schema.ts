import { z } from 'zod'
import { EXAMPLE_DATE, isoDate, listOf } from '../../http/openapi/common'

// The response bodies of /api/domains (Domain is also what the operator routes answer).

const domainExample = {
  _id: 'mine.example',
  owner: 'alice',
  created: EXAMPLE_DATE,
  updated: EXAMPLE_DATE,
  isPrivate: true,
  sendingVerified: false,
  enablews: true,
  hosted: false,
  isDefault: false,
}

/** `domainJson()` in ./json.ts. */
export const Domain = z
  .object({
    _id: z.string(),
    owner: z.string(),
    created: isoDate('When the operator assigned it'),
    updated: isoDate('Its settings last changed (none change after assignment)'),
    isPrivate: z.literal(true),
    sendingVerified: z.boolean().meta({ description: 'The account may send from it' }),
    enablews: z.literal(true).meta({ description: "Its mail reaches the owner's websockets" }),
    hosted: z.literal(false).meta({ description: "Not on Mailsac's hosted domain" }),
    isDefault: z.literal(false).meta({ description: 'There is no default-domain setting' }),
  })
  .meta({ id: 'Domain', example: domainExample })

export const DomainList = listOf(Domain, 'DomainList')

const catchAllExample = {
  _id: '*@mine.example',
  owner: 'alice',
  created: EXAMPLE_DATE,
  updated: EXAMPLE_DATE,
  implicit: true,
  catchAll: 'mine.example',
  enablews: true,
  enabledws: true,
  forward: null,
  webhook: null,
  webhookSlack: null,
  webhookSlackToFrom: false,
  encryptedInbox: null,
  info: null,
}

/** `catchAllAddressJson()` in ./json.ts. */
export const CatchAllAddress = z
  .object({
    _id: z.string().meta({ description: '`*@` and the domain' }),
    owner: z.string(),
    created: isoDate('When the domain was assigned'),
    updated: isoDate('As created: it has no settings to change'),
    implicit: z.literal(true),
    catchAll: z.string().meta({ description: 'The domain' }),
    enablews: z.literal(true).meta({ description: "Its mail reaches the owner's websockets" }),
    enabledws: z.literal(true),
    forward: z.string().nullable().meta({ description: 'Always null: no per-domain forwarding' }),
    webhook: z.string().nullable().meta({ description: 'Always null: no per-domain webhook' }),
    webhookSlack: z.string().nullable().meta({ description: 'Always null' }),
    webhookSlackToFrom: z.literal(false),
    encryptedInbox: z.string().nullable().meta({ description: 'Always null' }),
    info: z.string().nullable(),
  })
  .meta({
    id: 'CatchAllAddress',
    description:
      'Every address at an owned domain is its owner’s; reserve one to give it settings of its own.',
    example: catchAllExample,
  })

export const DomainDetail = z
  .object({ domain: Domain, totalMessages: z.number().int(), catchAllAddress: CatchAllAddress })
  .meta({
    id: 'DomainDetail',
    example: {
      domain: domainExample,
      totalMessages: 42,
      catchAllAddress: catchAllExample,
    },
  })
