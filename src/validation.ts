import { zValidator } from '@hono/zod-validator'
import type { ValidationTargets } from 'hono'
import { z, type ZodType } from 'zod'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './limits'
import { fail } from './errors'

/**
 * zod validation at the edge of a route; a failure is a 400 `{ error, message }` that names
 * the offending field, like Mailsac's validation errors.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const issue = result.error.issues[0]
      const field = issue?.path.join('.') || target
      fail(400, `Invalid ${field}: ${issue?.message ?? 'bad value'}`)
    }
  })
}

/** `?limit=&until=` of Mailsac's list routes. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(0).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  until: z.coerce.date().optional(),
})

/** `?download=1` on the content routes. */
export const downloadQuery = z.object({ download: z.string().optional() })
