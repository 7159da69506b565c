import type { OpenAPIV3_1 } from 'openapi-types'

// Request examples of the document. The generator derives parameters and bodies from the zod
// validators, which carry no examples; they are filled in here, by parameter name and by
// operation, once for the whole document. test/http/openapi/document.test.ts fails when a
// parameter or a request body has no example, so a new one cannot ship without it.

const MESSAGE_ID = 'pCNOJMEVAkflJw5mTZdKmHnHNoOo-0'
const MD5 = '1f0ebd3f6b5bbcb2d7ae1c4b50c7bd15'

/** An example value for every parameter name the API uses, wherever it appears. */
export const PARAMETER_EXAMPLES: Record<string, unknown> = {
  email: 'jeff@example.com',
  messageId: MESSAGE_ID,
  attachmentIdentifier: MD5,
  md5sum: MD5,
  label: 'work',
  folder: 'spam',
  readBoolean: 'true',
  domain: 'example.com',
  domainOrIP: 'spam.example',
  entry: 'spam.example',
  username: 'alice',
  limit: 20,
  skip: 0,
  until: '2026-11-25T00:00:00.000Z',
  since: '2026-11-01T00:00:00.000Z',
  startDate: '2026-11-01',
  endDate: '2026-11-25',
  messageHeadersFormat: 'json',
  deleteAddressMessages: 'true',
  download: '1',
  query: 'invoice',
  q: 'from:billing@example.org is:unread -label:done "your invoice"',
  andSubjectIncludes: 'invoice',
  andFrom: 'billing@example.org',
  andTo: 'jeff@example.com',
  andRead: 'false',
  addresses: 'jeff@example.com',
  key: 'k'.repeat(64),
  _id: 'alice',
  session: '1',
  from: 'sender@example.org',
  to: 'jeff@example.com',
  ip: '203.0.113.7',
  subject: 'Verify your email',
  text: 'verification code',
  regex: '/code: \\d{6}/i',
  header: 'X-Campaign:signup',
  hasCode: '1',
  hasLink: '1',
  count: 1,
  timeout: 30,
  expect: 'none',
}

const RAW = [
  'From: Sender <sender@example.org>',
  'To: jeff@example.com',
  'Subject: Hello',
  'Message-ID: <1@example.org>',
  '',
  'Hi Jeff',
  '',
].join('\r\n')

/** Example request bodies, by operation ("METHOD /path" as in the document). */
export const BODY_EXAMPLES: Record<string, unknown> = {
  'POST /api/auth/login': { username: 'alice', apiKey: 'k'.repeat(64) },
  'POST /api/private-addresses-bulk': { addresses: ['one@example.com', 'two@example.com'] },
  'POST /api/validations/addresses': { emails: ['jeff@mailinator.com', 'jeff@example.com'] },
  'POST /internal/ingest': RAW,
  'POST /internal/ingest/batch': {
    envelope: ['{"from":"sender@example.org","to":["jeff@example.com"],"ip":"203.0.113.7"}'],
    message: [RAW],
  },
  'PUT /internal/faults': {
    rules: [{ stage: 'rcpt', code: 451, probability: 0.5, domain: 'flaky.example' }],
  },
  'POST /internal/admin/domains': { domain: 'mail.example.com', account: 'alice' },
  'PUT /internal/admin/domains/{domain}/sending': { verified: true },
  'POST /internal/admin/denylist/{entry}': { reason: 'Sent 10,000 messages of spam' },
  'PUT /internal/admin/denylist/{entry}': { reason: 'Sent 10,000 messages of spam' },
  'POST /internal/admin/accounts': {
    username: 'alice',
    email: 'alice@example.net',
    privateAddressCredits: 5,
  },
  'PUT /internal/admin/accounts/{username}/sends': { add: 100 },
}

const hasExample = (value: { example?: unknown; examples?: unknown }) =>
  value.example !== undefined || value.examples !== undefined

/** Fills in the examples above where the generated document has none (in place). */
export function withRequestExamples<Doc extends OpenAPIV3_1.Document>(doc: Doc): Doc {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item ?? {})) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue
      const op = operation as OpenAPIV3_1.OperationObject
      for (const parameter of (op.parameters ?? []) as OpenAPIV3_1.ParameterObject[]) {
        const schema = (parameter.schema ?? {}) as { example?: unknown; examples?: unknown }
        if (hasExample(parameter) || hasExample(schema)) continue
        if (parameter.name in PARAMETER_EXAMPLES)
          parameter.example = PARAMETER_EXAMPLES[parameter.name]
      }
      const body = op.requestBody as OpenAPIV3_1.RequestBodyObject | undefined
      const example = BODY_EXAMPLES[`${method.toUpperCase()} ${path}`]
      if (!body?.content || example === undefined) continue
      for (const media of Object.values(body.content)) {
        if (!hasExample(media)) media.example = example
      }
    }
  }
  return doc
}
