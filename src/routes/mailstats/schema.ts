import { z } from 'zod'
import { EXAMPLE_INBOX, listOf } from '../../http/openapi/common'

// The response bodies of /api/mailstats.

/** One row of the stats lists (`Tally` in src/db/queries/mailstats.ts). */
export const Tally = z
  .object({
    _id: z.string().meta({ description: 'What was counted: an address, a domain or an MD5 sum' }),
    n: z.number().int().meta({ description: 'How many public messages' }),
  })
  .meta({ id: 'Tally', example: { _id: EXAMPLE_INBOX, n: 7 } })

export const TallyList = listOf(Tally, 'TallyList', 'Most first.')

export const AttachmentCount = z.object({ n: z.number().int() }).meta({
  id: 'AttachmentCount',
  example: { n: 3 },
})

export const Blacklist = z
  .array(z.string())
  .meta({ id: 'Blacklist', example: ['spam.example', '192.0.2.66'] })

export const BlacklistCheck = z
  .object({ blacklisted: z.literal(true) })
  .meta({ id: 'BlacklistCheck', example: { blacklisted: true } })
