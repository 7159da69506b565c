import { Scalar } from '@scalar/hono-api-reference'
import { Hono } from 'hono'
import { generateSpecs } from 'hono-openapi'
import { describe, media } from '../../http/openapi/describe'
import { openApiOptions } from '../../http/openapi/document'
import { withRequestExamples } from '../../http/openapi/examples'
import type { AppEnv } from '../../env'

/**
 * The CSP of /docs. Scalar's script comes unpinned from a CDN (the package ships no bundle to
 * self-host, and no integrity hash), so a compromised CDN must not be able to act as the
 * visitor: `sandbox` without allow-same-origin gives the page an opaque origin, so its scripts
 * cannot read our cookies or storage, their requests to our origin are cross-site (the
 * SameSite=Lax session cookie stays home) and our responses are unreadable to them except
 * /api/openapi.json, which allows any origin. Popups let its links open.
 */
const DOCS_POLICY =
  "sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/**
 * The API reference: `GET /api/openapi.json`, generated from the routes' describeRoute() and
 * zod validators of `app` (on the first request, then cached), and `GET /docs`, Scalar's
 * interactive reader of it.
 */
export function referenceRoutes(app: Hono<AppEnv>) {
  const reference = new Hono<AppEnv>()
  // Built once per isolate: the routes do not change while it runs.
  let document: Promise<unknown> | undefined

  reference.get(
    '/api/openapi.json',
    describe({
      tag: 'Service',
      access: 'anyone',
      summary: 'This OpenAPI document',
      description: 'OpenAPI 3.1, generated from the zod schemas that validate the routes.',
      responses: {
        200: media('application/json', 'The document', undefined, { type: 'object' }),
      },
    }),
    async (c) => {
      document ??= generateSpecs(app, openApiOptions, c)
        .then(withRequestExamples)
        .catch((error) => {
          document = undefined // the next request tries again
          throw error
        })
      // Public, and read by /docs from its sandbox's opaque origin (see DOCS_POLICY).
      c.header('Access-Control-Allow-Origin', '*')
      return c.json(await document)
    },
  )

  reference.get(
    '/docs',
    describe({
      tag: 'Service',
      access: 'none',
      summary: 'Interactive API reference',
      description:
        'An HTML page that renders /api/openapi.json; its script comes from a CDN and runs sandboxed (CSP `sandbox`, an opaque origin): it cannot read or use the visitor’s session.',
      responses: { 200: media('text/html', 'The reference page', '<!doctype html>…') },
    }),
    // The page loads Scalar's JavaScript from its CDN (cdn.jsdelivr.net): /docs needs the
    // browser to reach it. Nothing of it runs on the Worker.
    async (c, next) => {
      await next()
      c.header('Content-Security-Policy', DOCS_POLICY)
    },
    Scalar({ url: '/api/openapi.json', pageTitle: 'Mailsac-compatible API reference' }),
  )

  return reference
}
