import { describeRoute, resolver, type DescribeRouteOptions } from 'hono-openapi'
import type { ZodType } from 'zod'
import { statusText } from '../errors'
import { ErrorBody } from './common'

/** Who may call a route; decides its `security` and the failures every such route shares. */
export type Access =
  /** Any caller; a key, if given, must be valid (public inboxes, stats). */
  | 'anyone'
  /** An inbox route: public inboxes for anyone, private ones for their owner only. */
  | 'inbox'
  /** Needs a valid key or session. */
  | 'account'
  /** GET /api/me: answers null instead of refusing. */
  | 'lenient'
  /** Reads no credentials at all (login, logout, the reference itself). */
  | 'none'
  /** Operator routes behind ADMIN_TOKEN. */
  | 'admin'
  /** The SMTP bridge's route behind INGEST_TOKEN. */
  | 'ingest'
  /** A web page: HTML for anyone, private inboxes for their owner (errors are HTML pages too). */
  | 'page'

type ResponsesWithResolver = NonNullable<DescribeRouteOptions['responses']>
type ResponseWithResolver = ResponsesWithResolver[string]
type Parameter = Exclude<NonNullable<DescribeRouteOptions['parameters']>[number], { $ref: string }>
/** The JSON schema of a non-JSON body (a string, or bytes). */
type BodySchema = { type: 'string' | 'object'; format?: string }

// `io: 'output'`: a response is what the handler produces (no defaults, no unknown fields).
const OUTPUT = { options: { io: 'output' } }

/** A JSON response documented by a zod schema; the example defaults to the schema's own. */
export function json(schema: ZodType, description: string, example?: unknown) {
  return {
    description,
    content: {
      'application/json': {
        schema: resolver(schema, OUTPUT),
        example: example ?? schema.meta()?.example,
      },
    },
  } satisfies ResponseWithResolver
}

/** A non-JSON response (text, HTML, bytes). */
export function media(
  mediaType: string,
  description: string,
  example?: string,
  schema: BodySchema = { type: 'string' },
) {
  return {
    description,
    content: { [mediaType]: { schema, ...(example === undefined ? {} : { example }) } },
  } satisfies ResponseWithResolver
}

/** Attachment and file downloads: whatever content type the file has. */
export function file(description: string) {
  return media('application/octet-stream', description, undefined, {
    type: 'string',
    format: 'binary',
  })
}

/** The `{ error, message }` failure with a typical message. */
export function failure(status: number, message: string) {
  return json(ErrorBody, statusText(status), { error: statusText(status), message })
}

const SECURITY: Record<Access, NonNullable<DescribeRouteOptions['security']>> = {
  // `{}`: the key is optional.
  anyone: [{ APIKeyHeader: [] }, { APIKeyQueryParam: [] }, { SessionCookie: [] }, {}],
  inbox: [{ APIKeyHeader: [] }, { APIKeyQueryParam: [] }, { SessionCookie: [] }, {}],
  lenient: [{ APIKeyHeader: [] }, { APIKeyQueryParam: [] }, { SessionCookie: [] }, {}],
  account: [{ APIKeyHeader: [] }, { APIKeyQueryParam: [] }, { SessionCookie: [] }],
  none: [],
  page: [{ SessionCookie: [] }, { APIKeyHeader: [] }, {}],
  admin: [{ AdminToken: [] }],
  ingest: [{ IngestToken: [] }],
}

const BAD_KEY = 'The API key is not valid.'
const TOO_MANY = 'Too many requests from this address; retry in 42 seconds, or use an API key.'

/** The failures every route of an access kind can answer, besides its own. */
function sharedFailures(access: Access): Record<number, string> {
  switch (access) {
    case 'anyone':
    case 'inbox':
      return { 401: BAD_KEY, 429: TOO_MANY }
    case 'account':
      return {
        401: 'This route needs an API key (Mailsac-Key header or _mailsacKey).',
        429: TOO_MANY,
      }
    case 'lenient':
      return { 429: TOO_MANY }
    case 'admin':
      return {
        401: 'Missing or wrong bearer token.',
        503: 'ADMIN_TOKEN is not configured on this Worker.',
      }
    case 'ingest':
      return { 401: 'Missing or wrong bearer token.' }
    case 'none':
    case 'page':
      return {}
  }
}

export type RouteDescription = Omit<DescribeRouteOptions, 'responses' | 'tags' | 'security'> & {
  summary: string
  tag: string
  access: Access
  /** Success responses (json(), media(), file() or `{ description }`). */
  responses: ResponsesWithResolver
  /** Route-specific failures: status to a typical message. */
  failures?: Record<number, string>
}

/**
 * describeRoute() with the conventions of this API: tag, security and the shared failures
 * follow from `access`, every failure is the `{ error, message }` body with an example.
 */
export function describe({ tag, access, responses, failures = {}, ...rest }: RouteDescription) {
  const errors = Object.fromEntries(
    Object.entries({ ...sharedFailures(access), ...failures }).map(([status, message]) => [
      status,
      failure(Number(status), message),
    ]),
  )
  return describeRoute({
    ...rest,
    tags: [tag],
    security: SECURITY[access],
    responses: { ...responses, ...errors },
  })
}

/** A path parameter, for routes whose handler reads it itself. */
export function pathParam(
  name: string,
  description: string,
  schema: Parameter['schema'] = { type: 'string' },
  example?: string,
): Parameter {
  return { in: 'path', name, required: true, description, schema, example }
}

/** The tag of the `/internal` routes. */
export const OPERATOR = 'Operator (internal)'
