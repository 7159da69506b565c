import { describe, expect, it } from 'vitest'
import { call, createAccount, ingest, json, reserve, simpleMessage } from '../requests'

describe('private addresses', () => {
  it('reserves (200), refuses a second reservation by the owner (400) and another account (401)', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    const address = await reserve('mine@reserve.test', owner.apiKey)
    expect(address).toMatchObject({
      _id: 'mine@reserve.test',
      owner: owner.id,
      enablews: false,
      forward: null,
    })
    expect(address.encryptedInbox).toMatch(/^inbox-[0-9a-f]{40}@reserve\.test$/)
    await json('/api/addresses/mine@reserve.test', { method: 'POST', headers: owner.headers }, 400)
    await json('/api/addresses/mine@reserve.test', { method: 'POST', headers: other.headers }, 401)
  })

  it('shows the address to its owner, 401 to others, and a plain object when nobody owns it', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    await reserve('shown@reserve.test', owner.apiKey)
    expect(
      await json('/api/addresses/shown@reserve.test', { headers: owner.headers }),
    ).toMatchObject({ owner: owner.id })
    await json('/api/addresses/shown@reserve.test', { headers: other.headers }, 401)
    await json('/api/addresses/shown@reserve.test', {}, 401)
    const free = await json('/api/addresses/free@reserve.test')
    expect(free._id).toBe('free@reserve.test')
    expect(free).not.toHaveProperty('owner')
  })

  it('reports availability', async () => {
    const owner = await createAccount()
    await reserve('taken@reserve.test', owner.apiKey)
    expect(await json('/api/addresses/Taken@reserve.test/availability')).toEqual({
      available: false,
      email: 'taken@reserve.test',
      owned: true,
    })
    expect(await json('/api/addresses/open@reserve.test/availability')).toEqual({
      available: true,
      email: 'open@reserve.test',
      owned: false,
    })
  })

  it('releases (200), and answers 400 when not reserved and 401 for another account', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    await reserve('release@reserve.test', owner.apiKey)
    await json(
      '/api/addresses/release@reserve.test',
      { method: 'DELETE', headers: other.headers },
      401,
    )
    await json(
      '/api/addresses/release@reserve.test',
      { method: 'DELETE', headers: owner.headers },
      200,
    )
    await json(
      '/api/addresses/release@reserve.test',
      { method: 'DELETE', headers: owner.headers },
      400,
    )
    expect((await json('/api/addresses/release@reserve.test/availability')).available).toBe(true)
  })

  it('spends a credit per reservation and gives it back on release', async () => {
    const owner = await createAccount({ privateAddressCredits: 1 })
    await reserve('one@credits.test', owner.apiKey)
    const refused = await json(
      '/api/addresses/two@credits.test',
      { method: 'POST', headers: owner.headers },
      400,
    )
    expect(refused.message).toMatch(/credits/)
    await json('/api/addresses/one@credits.test', { method: 'DELETE', headers: owner.headers })
    await reserve('two@credits.test', owner.apiKey)
    expect((await json('/api/me', { headers: owner.headers })).privateAddressCredits).toBe(0)
  })

  it('lists the account’s private addresses', async () => {
    const owner = await createAccount()
    await reserve('b@list.test', owner.apiKey)
    await reserve('a@list.test', owner.apiKey)
    const list = await json('/api/addresses', { headers: owner.headers })
    expect(list.map((a: any) => a._id)).toEqual(['a@list.test', 'b@list.test'])
    await json('/api/addresses', {}, 401)
  })

  it('makes mail already in the inbox private once reserved', async () => {
    await ingest(simpleMessage(), ['later@reserve.test'])
    expect(await json('/api/addresses/later@reserve.test/messages')).toHaveLength(1)
    const owner = await createAccount()
    await reserve('later@reserve.test', owner.apiKey)
    await json('/api/addresses/later@reserve.test/messages', {}, 401)
    expect(
      await json('/api/addresses/later@reserve.test/messages', { headers: owner.headers }),
    ).toHaveLength(1)
  })
})

describe('POST /api/addresses/:email/webhook-secret', () => {
  it('replaces the signing key for the owner only', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    const email = 'rotate-secret@example.com'
    await reserve(email, owner.apiKey)
    const configured = await json(`/api/addresses/${email}`, {
      method: 'PUT',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhook: 'https://receiver.example.com/mail' }),
    })
    const rotated = await json(`/api/addresses/${email}/webhook-secret`, {
      method: 'POST',
      headers: owner.headers,
    })
    expect(rotated.webhookSecret).toMatch(/^whsec_[A-Za-z0-9]{43}$/)
    expect(rotated.webhookSecret).not.toBe(configured.webhookSecret)
    expect((await json(`/api/addresses/${email}`, { headers: owner.headers })).webhookSecret).toBe(
      rotated.webhookSecret,
    )

    const stranger = await call(`/api/addresses/${email}/webhook-secret`, {
      method: 'POST',
      headers: other.headers,
    })
    expect(stranger.status).toBe(401)
    const unreserved = await call('/api/addresses/nobody-reserved@example.com/webhook-secret', {
      method: 'POST',
      headers: owner.headers,
    })
    expect(unreserved.status).toBe(400)
    // The refusals changed nothing.
    expect((await json(`/api/addresses/${email}`, { headers: owner.headers })).webhookSecret).toBe(
      rotated.webhookSecret,
    )
  })
})
