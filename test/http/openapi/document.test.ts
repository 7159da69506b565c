import { beforeAll, describe, expect, it } from 'vitest'
import { app } from '../../../src/app'
import { call } from '../../requests'
import { servedDocument, validatorFor, type Document } from './document'

let doc: Document

beforeAll(async () => {
  doc = await servedDocument()
})

/** Every route the app serves, as OpenAPI method and path (`:param` becomes `{param}`). */
function servedOperations(): [method: string, path: string][] {
  const routes = app.routes.filter((route) => route.method !== 'ALL')
  const keys = new Set(
    routes.map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
  )
  return [...keys].sort().map((key) => key.split(' ') as [string, string])
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document with the three ways to authenticate and the error table', () => {
    expect(doc.openapi).toBe('3.1.0')
    const schemes = doc.components.securitySchemes
    expect(schemes.APIKeyHeader).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Mailsac-Key',
    })
    expect(schemes.APIKeyQueryParam).toMatchObject({ in: 'query', name: '_mailsacKey' })
    expect(schemes.SessionCookie).toMatchObject({ in: 'cookie', name: 'mailsac_session' })
    const info = doc.info.description
    expect(info).toContain('`_mailsacKey` field in the JSON body')
    expect(info).toContain('X-CSRF-Token')
    for (const row of ['| 400 | Bad Request |', '| 429 | Too Many Requests |', '| 503 |']) {
      expect(info).toContain(row)
    }
  })

  it('documents every route the app serves, each with a summary and an example response', () => {
    const operations = servedOperations()
    // Guards against app.routes changing meaning and the walk below checking nothing.
    expect(operations.length).toBeGreaterThan(60)
    const problems: string[] = []
    for (const [method, path] of operations) {
      const operation = doc.paths[path]?.[method]
      if (!operation) {
        problems.push(`${method.toUpperCase()} ${path}: missing from the document`)
        continue
      }
      if (!operation.summary) problems.push(`${method.toUpperCase()} ${path}: no summary`)
      const examples = Object.values(operation.responses ?? {}).flatMap((response: any) =>
        Object.values(response.content ?? {}).filter((media: any) => media.example !== undefined),
      )
      if (examples.length === 0) problems.push(`${method.toUpperCase()} ${path}: no example`)
    }
    expect(problems).toEqual([])
  })

  it('gives every parameter and every request body an example', () => {
    const problems: string[] = []
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        const name = `${method.toUpperCase()} ${path}`
        for (const parameter of operation.parameters ?? []) {
          const example = parameter.example ?? parameter.schema?.example ?? parameter.examples
          if (example === undefined) problems.push(`${name}: parameter ${parameter.name}`)
        }
        for (const [type, media] of Object.entries<any>(operation.requestBody?.content ?? {})) {
          const example = media.example ?? media.examples ?? media.schema?.example
          if (example === undefined) problems.push(`${name}: ${type} body`)
        }
      }
    }
    expect(problems).toEqual([])
  })

  it('documents no route the app does not serve', () => {
    const served = new Set(servedOperations().map(([method, path]) => `${method} ${path}`))
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    )
    expect(documented.filter((operation) => !served.has(operation))).toEqual([])
  })

  it('answers every failure as the { error, message } body, with an example', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          if (Number(status) < 400) continue
          const media = response.content?.['application/json']
          expect(media?.schema, `${method} ${path} ${status}`).toEqual({
            $ref: '#/components/schemas/Error',
          })
          expect(Object.keys(media.example).sort()).toEqual(['error', 'message'])
        }
      }
    }
  })

  it('has examples that match their own schemas', () => {
    for (const [name, schema] of Object.entries<any>(doc.components.schemas)) {
      expect(schema.example, `${name} has no example`).toBeDefined()
      const result = validatorFor(doc, schema).safeParse(schema.example)
      expect(result.error?.issues ?? [], name).toEqual([])
    }
  })
})

describe('GET /docs', () => {
  it('serves the interactive reference of /api/openapi.json', async () => {
    const response = await call('/docs')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    const html = await response.text()
    expect(html).toContain('/api/openapi.json')
    expect(html).toContain('@scalar/api-reference')
  })

  it('#13.14 runs the CDN script sandboxed, in an opaque origin that cannot use the session', async () => {
    const response = await call('/docs')
    const directives = (response.headers.get('content-security-policy') ?? '')
      .split(';')
      .map((directive) => directive.trim())
    const sandbox = directives.find((directive) => directive.startsWith('sandbox'))
    expect(sandbox?.split(/\s+/)).toContain('allow-scripts')
    // allow-same-origin would give the script our origin back: cookies, storage, the API.
    expect(sandbox).not.toContain('allow-same-origin')
    expect(directives).toContain("frame-ancestors 'none'")
    // The sandboxed page reads the document cross-origin.
    const document = await call('/api/openapi.json', { headers: { Origin: 'null' } })
    expect(document.headers.get('access-control-allow-origin')).toBe('*')
  })
})
