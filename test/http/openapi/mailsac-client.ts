import mailsacDocument from '@mailsac/api/openapi.json'
import { Mailsac } from '@mailsac/api'
import { exports } from 'cloudflare:workers'
import { expect } from 'vitest'
import { inlineRefs, resolveRef, validatorFor, type Schema } from './document'

/**
 * The official client (@mailsac/api, axios inside) pointed at the Worker under test: axios's
 * fetch adapter takes the fetch to use, so each call goes through the real fetch handler.
 */
export function mailsacClient(apiKey?: string) {
  return new Mailsac({
    baseURL: 'http://mail.test/api',
    adapter: 'fetch',
    env: {
      fetch: (input: RequestInfo | URL, init?: RequestInit) =>
        exports.default.fetch(new Request(input, init)),
    },
    headers: apiKey ? { 'Mailsac-Key': apiKey } : {},
    // Failures are answers too: the tests look at their status.
    validateStatus: () => true,
  } as ConstructorParameters<typeof Mailsac>[0])
}

const theirs = mailsacDocument as unknown as Schema

/**
 * The schema with `null` allowed wherever a type is given (and `date` read as `date-time`). Mailsac's document (OpenAPI 3.0)
 * never says `nullable`, yet the seed turns settings off with null and the API answers null
 * for them; mailsac-compat.test.ts lets ours allow null for the same reason.
 */
function allowNull(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(allowNull)
  if (!schema || typeof schema !== 'object') return schema
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, allowNull(v)]))
  if (typeof out.type === 'string') out.type = [out.type, 'null']
  // Mailsac's document says `date` for timestamps its own examples (and API) give as ISO
  // date-times, e.g. EmailMessage.received.
  if (out.format === 'date') out.format = 'date-time'
  return out
}

/**
 * Checks a body against the success schema Mailsac's openapi.json gives for an operation
 * (`METHOD /path/{param}`, Mailsac's paths, without /api).
 */
export function expectMailsacShape(
  operation: string,
  body: unknown,
  { status = 200, items = false }: { status?: number; items?: boolean } = {},
) {
  const [method, path] = operation.split(' ')
  const response = theirs.paths[path]?.[method.toLowerCase()]?.responses?.[status]
  const schema = response && resolveRef(theirs, response).content?.['application/json']?.schema
  if (!schema) throw new Error(`${operation} has no ${status} JSON schema in Mailsac's document`)
  const validator = validatorFor(theirs, allowNull(inlineRefs(theirs, schema)) as Schema)
  // `items`: where Mailsac documents one object but the API answers a list of them
  // (LIST_NOT_OBJECT in mailsac-compat.test.ts), each item is checked.
  for (const value of items ? (body as unknown[]) : [body]) {
    const result = validator.safeParse(value)
    const shown = JSON.stringify(value).slice(0, 500)
    expect(result.error?.issues ?? [], `${operation}: ${shown}`).toEqual([])
  }
}
