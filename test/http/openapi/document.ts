import { z } from 'zod'
import { json } from '../../requests'

/** A JSON Schema or OpenAPI schema object, as the documents hold them. */
export type Schema = Record<string, any>
export type Document = {
  openapi: string
  info: { title: string; version: string; description: string }
  paths: Record<string, Record<string, any>>
  components: Schema
}

/** GET /api/openapi.json of the Worker under test. */
export function servedDocument(): Promise<Document> {
  return json<Document>('/api/openapi.json')
}

/** Follows a local `$ref` (`#/components/...`, any depth) until a schema without one. */
export function resolveRef(doc: Schema, schema: Schema): Schema {
  let current = schema
  for (let hops = 0; current?.$ref; hops++) {
    if (hops > 20) throw new Error(`$ref loop at ${schema.$ref}`)
    const pointer = (current.$ref as string).replace(/^#\//, '').split('/')
    current = pointer.reduce(
      (node: any, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')],
      doc,
    )
    if (!current) throw new Error(`unresolved $ref ${schema.$ref}`)
  }
  return current
}

/** The schema with every `$ref` replaced by its target (our components are not recursive). */
export function inlineRefs(doc: Schema, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(doc, item))
  if (!schema || typeof schema !== 'object') return schema
  const resolved = '$ref' in schema ? resolveRef(doc, schema as Schema) : (schema as Schema)
  return Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, inlineRefs(doc, v)]))
}

/** A zod validator for a schema of the document (additionalProperties: false is enforced). */
export function validatorFor(doc: Schema, schema: Schema) {
  return z.fromJSONSchema(inlineRefs(doc, schema) as Parameters<typeof z.fromJSONSchema>[0])
}

/** The JSON schema of an operation's response. */
export function responseSchema(doc: Document, method: string, path: string, status = 200): Schema {
  const operation = doc.paths[path]?.[method.toLowerCase()]
  if (!operation) throw new Error(`${method} ${path} is not in the document`)
  const schema = operation.responses?.[status]?.content?.['application/json']?.schema
  if (!schema) throw new Error(`${method} ${path} documents no JSON ${status} response`)
  return schema
}
