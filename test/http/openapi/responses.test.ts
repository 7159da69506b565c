import { beforeAll, describe, expect, it } from 'vitest'
import fixture from '../../fixtures/inline-and-attachment.eml?raw'
import { DIARY_PDF, md5 } from '../../fixture-bytes'
import { ADMIN, call, createAccount, ingest, json, reserve } from '../../requests'
import { responseSchema, servedDocument, validatorFor, type Document } from './document'

// Real responses against the schemas the document gives for them: a handler whose answer
// changes shape (a field renamed, added or dropped) fails here until the schema follows.

let doc: Document
let owner: Awaited<ReturnType<typeof createAccount>>
let publicId: string
let privateId: string
const PUBLIC = 'oas-public@example.com'
const PRIVATE = 'oas-private@example.com'
const DOMAIN = 'oas-owned.test'
const RANGE = 'startDate=2000-01-01&endDate=2100-01-01'

beforeAll(async () => {
  doc = await servedDocument()
  owner = await createAccount({ email: 'owner@example.net' })
  await reserve(PRIVATE, owner.apiKey)
  ;[{ _id: publicId }] = await ingest(fixture, [PUBLIC])
  ;[{ _id: privateId }] = await ingest(fixture, [PRIVATE])
  await json('/internal/admin/denylist/oas-denied.test', { method: 'POST', headers: ADMIN })
  await json('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain: DOMAIN, account: owner.id }),
  })
})

/**
 * Calls `path` and checks the JSON body against the document's schema for `documented`
 * (`METHOD /path/{param}`) and the status it answered.
 */
async function conforms(documented: string, path: string, init: RequestInit = {}) {
  const [method, template] = documented.split(' ')
  const response = await call(path, { method, ...init })
  const text = await response.text()
  expect(response.status, `${documented}: ${text}`).toBeLessThan(300)
  const body = JSON.parse(text)
  const result = validatorFor(
    doc,
    responseSchema(doc, method, template, response.status),
  ).safeParse(body)
  expect(result.error?.issues ?? [], `${documented}: ${text.slice(0, 500)}`).toEqual([])
  return body
}

describe('real responses match the documented schemas', () => {
  it('messages: list, one message, count, star, labels, folder, read, headers, attachments', async () => {
    const key = { headers: owner.headers }
    const messages = `/api/addresses/${PUBLIC}/messages`
    const list = await conforms('GET /api/addresses/{email}/messages', messages)
    expect(list.length).toBeGreaterThan(0)
    await conforms('GET /api/addresses/{email}/messages', `/api/addresses/${PRIVATE}/messages`, key)
    const one = `${messages}/${publicId}`
    const full = await conforms('GET /api/addresses/{email}/messages/{messageId}', one)
    expect(full.attachments.length).toBeGreaterThan(0)
    await conforms(
      'GET /api/addresses/{email}/message-count',
      `/api/addresses/${PUBLIC}/message-count`,
    )
    const base = '/api/addresses/{email}/messages/{messageId}'
    await conforms(`GET ${base}/headers`, `${one}/headers`)
    await conforms(`GET ${base}/headers`, `${one}/headers?messageHeadersFormat=json-ordered`)
    await conforms(`GET ${base}/attachments`, `${one}/attachments`)
    await conforms(`PUT ${base}/labels/{label}`, `${one}/labels/work`)
    await conforms(`DELETE ${base}/labels/{label}`, `${one}/labels/work`)
    await conforms(`PUT ${base}/folder/{folder}`, `${one}/folder/spam`)
    await conforms(`PUT ${base}/read/{readBoolean}`, `${one}/read/true`)
    await conforms(`GET /api/headers/{email}/{messageId}`, `/api/headers/${PUBLIC}/${publicId}`)
    const starred = `/api/addresses/${PRIVATE}/messages/${privateId}/star`
    await conforms(`PUT ${base}/star`, starred, key)
    await conforms('GET /api/addresses/starred/messages', '/api/addresses/starred/messages', key)
    // The fixture at PUBLIC stays for the stats test.
    const [spare] = await ingest(fixture, [PUBLIC])
    await conforms(`DELETE ${base}`, `${messages}/${spare._id}`)
  })

  it('account, addresses and domains', async () => {
    const key = { headers: owner.headers }
    const me = await conforms('GET /api/me', '/api/me', key)
    expect(me._id).toBe(owner.id)
    expect(await conforms('GET /api/me', '/api/me')).toBeNull()
    await conforms('GET /api/me/stats', '/api/me/stats', key)
    await conforms('GET /api/addresses', '/api/addresses', key)
    await conforms('GET /api/addresses/{email}', `/api/addresses/${PRIVATE}`, key)
    await conforms('GET /api/addresses/{email}', `/api/addresses/nobody-${Date.now()}@example.com`)
    await conforms('GET /api/addresses/{email}', `/api/addresses/anyone@${DOMAIN}`, key)
    await conforms(
      'GET /api/addresses/{email}/availability',
      `/api/addresses/${PRIVATE}/availability`,
    )
    await conforms('PUT /api/addresses/{email}', `/api/addresses/${PRIVATE}`, {
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhook: 'https://hooks.example.net/mail', info: 'ci' }),
    })
    await conforms('POST /api/private-addresses-bulk', '/api/private-addresses-bulk', {
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ addresses: ['oas-bulk@example.com', PRIVATE, 'not an address'] }),
    })
    await conforms('DELETE /api/addresses/{email}', '/api/addresses/oas-bulk@example.com', key)
    await conforms('GET /api/domains', '/api/domains', key)
    await conforms('GET /api/domains/{domain}', `/api/domains/${DOMAIN}`, key)
    await conforms('GET /api/domains/{domain}/messages', `/api/domains/${DOMAIN}/messages`, key)
    await conforms(
      'GET /api/addresses/{email}/webhook-deliveries',
      `/api/addresses/${PRIVATE}/webhook-deliveries`,
      key,
    )
  })

  it('inbox views, stats, limits and the session', async () => {
    const key = { headers: owner.headers }
    await conforms('GET /api/inbox', '/api/inbox', key)
    await conforms('GET /api/inbox-filter', '/api/inbox-filter?andSubjectIncludes=a', key)
    await conforms('GET /api/inbox-search', '/api/inbox-search?query=a', key)
    for (const tally of ['top-addresses', 'top-senders', 'top-domains', 'common-attachments']) {
      const rows = await conforms(`GET /api/mailstats/${tally}`, `/api/mailstats/${tally}?${RANGE}`)
      expect(rows.length).toBeGreaterThan(0)
    }
    const sum = await md5(DIARY_PDF)
    const attachment = '/api/mailstats/common-attachments/{md5sum}'
    await conforms(`GET ${attachment}`, `/api/mailstats/common-attachments/${sum}`)
    await conforms(`GET ${attachment}/count`, `/api/mailstats/common-attachments/${sum}/count`)
    await conforms('GET /api/mailstats/blacklist', '/api/mailstats/blacklist')
    await conforms(
      'GET /api/mailstats/blacklist/{domainOrIP}',
      '/api/mailstats/blacklist/oas-denied.test',
    )
    await conforms('GET /api/limits', '/api/limits')
    await conforms('POST /api/auth/login', '/api/auth/login', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: owner.id, apiKey: owner.apiKey }),
    })
    await conforms('POST /api/auth/logout', '/api/auth/logout')
  })

  it('operator routes', async () => {
    await conforms(
      'GET /internal/admin/accounts/{username}',
      `/internal/admin/accounts/${owner.id}`,
      {
        headers: ADMIN,
      },
    )
    await conforms('GET /internal/admin/domains/{domain}', `/internal/admin/domains/${DOMAIN}`, {
      headers: ADMIN,
    })
    await conforms('GET /internal/admin/denylist', '/internal/admin/denylist', { headers: ADMIN })
    await conforms(
      'PUT /internal/admin/accounts/{username}/sends',
      `/internal/admin/accounts/${owner.id}/sends`,
      {
        headers: { ...ADMIN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ add: 2 }),
      },
    )
  })

  it('an error answers the documented { error, message }', async () => {
    const response = await call(`/api/addresses/${PRIVATE}/messages`)
    expect(response.status).toBe(401)
    const schema = responseSchema(doc, 'GET', '/api/addresses/{email}/messages', 401)
    expect(validatorFor(doc, schema).safeParse(await response.json()).success).toBe(true)
  })
})
