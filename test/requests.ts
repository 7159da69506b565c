import { exports } from 'cloudflare:workers'
import { expect } from 'vitest'

export const ADMIN = { Authorization: 'Bearer test-admin-token' }
export const INGEST = { Authorization: 'Bearer test-ingest-token' }

/** A request to the Worker under test, through its real fetch handler. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://mail.test${path}`, init))
}

/** GETs JSON, asserting the status first so a failure says what came back. */
export async function json<T = any>(
  path: string,
  init: RequestInit = {},
  status = 200,
): Promise<T> {
  const response = await call(path, init)
  const body = await response.text()
  expect(response.status, `${init.method ?? 'GET'} ${path}: ${body}`).toBe(status)
  return body ? JSON.parse(body) : (undefined as T)
}

let accountCounter = 0

/** Creates an account through the admin API; returns its username and API key. */
export async function createAccount(settings: Record<string, unknown> = {}) {
  const username = `user${++accountCounter}${Math.random().toString(36).slice(2, 8)}`
  const created = await json<{ _id: string; apiKey: string }>('/internal/admin/accounts', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, privateAddressCredits: 5, ...settings }),
  })
  return { id: created._id, apiKey: created.apiKey, headers: { 'Mailsac-Key': created.apiKey } }
}

/** Reserves a private address for an account. */
export async function reserve(email: string, apiKey: string) {
  return json(`/api/addresses/${email}`, { method: 'POST', headers: { 'Mailsac-Key': apiKey } })
}

/** Delivers a raw message through POST /internal/ingest; returns the stored ids. */
export async function ingest(raw: string | Uint8Array, to: string[], from = 'sender@example.org') {
  const query = new URLSearchParams([['from', from], ...to.map((rcpt) => ['to', rcpt])])
  const body = await json<{ messages: { _id: string; inbox: string }[] }>(
    `/internal/ingest?${query}`,
    { method: 'POST', headers: INGEST, body: raw },
  )
  return body.messages
}

/** A minimal CRLF message. */
export function simpleMessage(fields: { to?: string; subject?: string; body?: string } = {}) {
  return [
    'From: Sender <sender@example.org>',
    `To: ${fields.to ?? 'someone@example.com'}`,
    `Subject: ${fields.subject ?? 'Hello'}`,
    'Message-ID: <' + crypto.randomUUID() + '@example.org>',
    'Date: Tue, 24 Nov 2026 10:00:00 +0000',
    '',
    fields.body ?? 'Hi there',
    '',
  ].join('\r\n')
}

/** Bytes of a string whose characters are all below 256, one byte each (latin1). */
export function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0))
}
