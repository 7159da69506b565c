import { Scalar } from '@scalar/hono-api-reference'
import { Hono } from 'hono'
import { generateSpecs } from 'hono-openapi'
import { describe, media } from '../../http/openapi/describe'
import { openApiOptions } from '../../http/openapi/document'
import { withRequestExamples } from '../../http/openapi/examples'
import type { AppEnv } from '../../env'

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
      return c.json(await document)
    },
  )

  reference.get(
    '/docs',
    describe({
      tag: 'Service',
      access: 'none',
      summary: 'Interactive API reference',
      description: 'An HTML page that renders /api/openapi.json; its script comes from a CDN.',
      responses: { 200: media('text/html', 'The reference page', '<!doctype html>…') },
    }),
    // The page loads Scalar's JavaScript from its CDN (cdn.jsdelivr.net): /docs needs the
    // browser to reach it. Nothing of it runs on the Worker.
    Scalar({ url: '/api/openapi.json', pageTitle: 'Mailsac-compatible API reference' }),
  )

  return reference
}
