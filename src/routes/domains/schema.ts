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
  verified: true,
  verifiedMx: false,
  verificationTxt: 'mailsac-edge-verification=Q2x9rT0bVw3nKp8sLd4fYh6jMc1aZe5u',
  lastVerificationErrors:
    'MX of mine.example points at mx.example.net, not at Cloudflare Email Routing (route1.mx.cloudflare.net, route2.mx.cloudflare.net, route3.mx.cloudflare.net): mail for it will not reach this Worker.',
  lastVerified: EXAMPLE_DATE,
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
    verified: z
      .boolean()
      .meta({ description: 'The last check found the verificationTxt TXT record' }),
    verifiedMx: z.boolean().meta({
      description: 'The last check found every MX pointing at Cloudflare Email Routing',
    }),
    verificationTxt: z.string().meta({
      description:
        'The TXT record to publish at the domain (POST /api/domains/{domain}/verify checks it)',
    }),
    lastVerificationErrors: z.string().nullable().meta({
      description:
        'What the last check found wrong, one problem a line; empty when nothing; null before any check',
    }),
    lastVerified: isoDate('When it was last checked').nullable(),
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
