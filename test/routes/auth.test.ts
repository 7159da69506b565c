import { describe, expect, it } from 'vitest'
import { call, createAccount, ingest, json, reserve, simpleMessage } from '../requests'

describe('API key authentication', () => {
  it('accepts the key as a Mailsac-Key header, a _mailsacKey query parameter and a JSON body field', async () => {
    const account = await createAccount()
    await reserve('keyed@example.com', account.apiKey)
    await ingest(simpleMessage(), ['keyed@example.com'])

    const viaHeader = await json('/api/addresses/keyed@example.com/messages', {
      headers: account.headers,
    })
    expect(viaHeader).toHaveLength(1)
    const viaQuery = await json(
      `/api/addresses/keyed@example.com/messages?_mailsacKey=${account.apiKey}`,
    )
    expect(viaQuery).toHaveLength(1)
    const viaBody = await json('/api/addresses/body-keyed@example.com', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ _mailsacKey: account.apiKey }),
    })
    expect(viaBody).toMatchObject({ _id: 'body-keyed@example.com', owner: account.id })
  })

  it('answers 401 for a key that matches no account, on any route', async () => {
    const badKey = 'a'.repeat(64)
    for (const path of ['/api/addresses/public@example.com/messages', '/api/addresses']) {
      const body = await json(path, { headers: { 'Mailsac-Key': badKey } }, 401)
      expect(body).toEqual({ error: 'Unauthorized', message: 'The API key is not valid.' })
    }
  })

  it('stops accepting a key once it is rotated', async () => {
    const account = await createAccount()
    const rotated = await json(`/internal/admin/accounts/${account.id}/key`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-admin-token' },
    })
    expect(rotated.apiKey).toMatch(/^[A-Za-z0-9]{64}$/)
    expect(rotated.apiKey).not.toBe(account.apiKey)
    await json('/api/addresses', { headers: account.headers }, 401)
    await json('/api/addresses', { headers: { 'Mailsac-Key': rotated.apiKey } }, 200)
  })
})

describe('GET /api/me', () => {
  it('returns the user object for a valid key', async () => {
    const account = await createAccount({ messageLimit: 50, sendsRemaining: 7 })
    expect(await json('/api/me', { headers: account.headers })).toMatchObject({
      _id: account.id,
      messageLimit: 50,
      sendsRemaining: 7,
      privateAddressCredits: 5,
    })
  })

  it('returns null with 200 for a missing or invalid key', async () => {
    for (const headers of [{}, { 'Mailsac-Key': 'b'.repeat(64) }] as Record<string, string>[]) {
      const response = await call('/api/me', { headers })
      expect(response.status).toBe(200)
      expect(await response.json()).toBeNull()
    }
  })
})

describe('/internal/admin', () => {
  it('refuses a wrong admin token', async () => {
    const response = await call('/internal/admin/accounts', {
      method: 'POST',
      headers: { Authorization: 'Bearer nope', 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'mallory' }),
    })
    expect(response.status).toBe(401)
  })

  it('creates accounts with 64-character keys stored only as hashes, and refuses duplicates', async () => {
    const account = await createAccount()
    expect(account.apiKey).toMatch(/^[A-Za-z0-9]{64}$/)
    const { env } = await import('cloudflare:workers')
    const row = await env.DB.prepare('select * from accounts where id = ?').bind(account.id).first()
    expect(JSON.stringify(row)).not.toContain(account.apiKey)
    await json(
      '/internal/admin/accounts',
      {
        method: 'POST',
        headers: { Authorization: 'Bearer test-admin-token', 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: account.id }),
      },
      409,
    )
  })

  it('deletes an account and its key stops working', async () => {
    const account = await createAccount()
    await json(`/internal/admin/accounts/${account.id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer test-admin-token' },
    })
    await json('/api/addresses', { headers: account.headers }, 401)
  })

  it('names the field of a bad request', async () => {
    const body = await json(
      '/internal/admin/accounts',
      {
        method: 'POST',
        headers: { Authorization: 'Bearer test-admin-token', 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'bad name!' }),
      },
      400,
    )
    expect(body.message).toMatch(/username/)
  })
})
