import { z } from 'zod'
import { EXAMPLE_DATE, isoDate, listOf } from '../../http/openapi/common'

// The response bodies of /api/domains (Domain is also what the operator routes answer).

const domainExample = {
  _id: 'mine.example',
  owner: 'alice',
  created: EXAMPLE_DATE,
  isPrivate: true,
  sendingVerified: false,
}

/** `domainJson()` in ./json.ts. */
export const Domain = z
  .object({
    _id: z.string(),
    owner: z.string(),
    created: isoDate('When the operator assigned it'),
    isPrivate: z.literal(true),
    sendingVerified: z.boolean().meta({ description: 'The account may send from it' }),
  })
  .meta({ id: 'Domain', example: domainExample })

export const DomainList = listOf(Domain, 'DomainList')

export const DomainDetail = z
  .object({ domain: Domain, totalMessages: z.number().int() })
  .meta({ id: 'DomainDetail', example: { domain: domainExample, totalMessages: 42 } })
