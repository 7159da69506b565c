import type { Context, ValidationTargets } from 'hono'
import { validator } from 'hono-openapi'
import { z, type ZodType } from 'zod'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../limits'
import { fail } from './errors'

/**
 * zod validation at the edge of a route; a failure is a 400 `{ error, message }` that names
 * the offending field, like Mailsac's validation errors. hono-openapi's validator also
 * registers the schema, so the route's parameters and body appear in /api/openapi.json.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends ZodType>(
  target: Target,
  schema: Schema,
) {
  return validator(target, schema, (result) => {
    if (!result.success) {
      const issue = result.error[0]
      // Standard Schema path items are keys or `{ key }` objects.
      const field =
        issue?.path?.map((item) => String(typeof item === 'object' ? item.key : item)).join('.') ||
        target
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

/** `?download=1` makes browsers save the file instead of showing it (seed). */
export function downloadHeaders(c: Context, filename: string): Record<string, string> {
  return c.req.query('download') === '1'
    ? { 'Content-Disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"` }
    : {}
}
