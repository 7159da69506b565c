import type { GenerateSpecOptions } from 'hono-openapi'
import { CSRF_HEADER, SESSION_COOKIE } from '../auth'

/** The HTTP errors of the seed's error table, as Mailsac documents them. */
const ERROR_TABLE: [number, string, string][] = [
  [400, 'Bad Request', 'Fix the validation error and try the request again'],
  [
    401,
    'Unauthorized',
    'Your API key is wrong or you are requesting something that belongs to someone else',
  ],
  [
    403,
    'Forbidden',
    'No matter how you repeat the request, it will not succeed with those credentials',
  ],
  [
    404,
    'Not Found',
    'The requested resource does not exist, or no longer exists, or the URL route is wrong',
  ],
  [418, "I'm a teapot", 'Short and stout'],
  [420, 'Relax your calm', 'Chill'],
  [429, 'Too Many Requests', 'Please slow down your requests'],
  [
    500,
    'Internal Server Error',
    'We had a problem with our server and have been notified via our monitoring - try again later',
  ],
  [503, 'Service Unavailable', "We're temporarially offline for maintanance - try again later"],
]

const DESCRIPTION = `A Mailsac-compatible disposable email API: public inboxes anyone can read, private
addresses and custom domains for accounts, attachments, stats, webhooks and a websocket feed.

## Authentication

An API key (64 characters) can be given in three ways, as with Mailsac:

1. the \`Mailsac-Key\` request header (\`APIKeyHeader\`);
2. the \`_mailsacKey\` query parameter (\`APIKeyQueryParam\`);
3. a \`_mailsacKey\` field in the JSON body of a POST or PUT request (\`Content-Type:
   application/json\`). OpenAPI has no security scheme for a body field, so it is only described here.

Without a key, the web pages' session counts: \`POST /api/auth/login\` sets the
\`${SESSION_COOKIE}\` cookie (\`SessionCookie\`) and returns a CSRF token; a cookie-authenticated
request that changes state (anything but GET, HEAD, OPTIONS) must send it in the
\`${CSRF_HEADER}\` header, or it is refused with 403.

A key that matches no account is a 401 everywhere (even on routes that need none), except
\`GET /api/me\`, which answers \`null\`. Public inboxes need no key; private addresses and
addresses at an owned domain answer 401 to anyone but their owner.

Operator routes under \`/internal\` take a bearer token (\`ADMIN_TOKEN\`, or \`INGEST_TOKEN\`
for the SMTP bridge), never an API key.

## Errors

Every failure is JSON: \`{ "error": "<status text>", "message": "<what went wrong>" }\`.

| HTTP Status | Status Message | Meaning |
| --- | --- | --- |
${ERROR_TABLE.map(([status, text, meaning]) => `| ${status} | ${text} | ${meaning} |`).join('\n')}

(Mailsac's table, kept as the seed gives it. This service does not answer 418 or 420; it
also uses 409 Conflict, 413 Payload Too Large and 426 Upgrade Required where named.)
`

/** Options of hono-openapi's generator: everything in the document that no route carries. */
export const openApiOptions: Partial<GenerateSpecOptions> = {
  // Otherwise /api/openapi.json itself is left out as a "static file" (its name has a dot).
  excludeStaticFile: false,
  documentation: {
    info: {
      title: 'Mailsac-compatible disposable email API',
      version: '1.0.0',
      description: DESCRIPTION,
    },
    servers: [{ url: '/', description: 'This deployment' }],
    tags: [
      { name: 'Messages', description: 'The mail of an inbox' },
      { name: 'Message content', description: 'One representation of a message per route' },
      { name: 'Attachments', description: 'Attachments of a message' },
      { name: 'Addresses', description: 'Private addresses and their settings' },
      { name: 'Domains', description: 'Custom domains of the account' },
      { name: 'Inbox', description: 'Account-wide views of all owned inboxes' },
      { name: 'Account', description: 'The account of the key' },
      { name: 'Email stats', description: 'Public mail statistics and the deny-list' },
      { name: 'Outgoing', description: 'Sending mail' },
      { name: 'Webhooks', description: 'What became of webhook, Slack and forward deliveries' },
      { name: 'Websocket', description: 'The live feed of incoming mail' },
      { name: 'Web session', description: 'Cookie sessions of the web pages' },
      { name: 'Service', description: 'Limits and this reference' },
      {
        name: 'Operator (internal)',
        description: 'Bearer-token routes for operators and the SMTP bridge',
      },
    ],
    components: {
      securitySchemes: {
        APIKeyHeader: { type: 'apiKey', in: 'header', name: 'Mailsac-Key' },
        APIKeyQueryParam: { type: 'apiKey', in: 'query', name: '_mailsacKey' },
        SessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: `Set by POST /api/auth/login. Requests that change state also need the ${CSRF_HEADER} header with the token login returned.`,
        },
        AdminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN of the Worker' },
        IngestToken: { type: 'http', scheme: 'bearer', description: 'INGEST_TOKEN of the Worker' },
      },
    },
  },
  // hono-openapi's default 400 is its own validator body; ours is `{ error, message }`.
  // (Static: the generator clones it. `Error` is a component through every route's failures.)
  defaultValidationErrorResponse: {
    description: 'Bad Request',
    content: {
      'application/json': {
        schema: { $ref: '#/components/schemas/Error' },
        example: {
          error: 'Bad Request',
          message: 'Invalid limit: Too small: expected number to be >=0',
        },
      },
    },
  },
}
