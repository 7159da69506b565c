import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { ADMIN, createAccount, json } from '../../requests'
import { stubDns } from '../../stub-dns'
import { expectMailsacShape, mailsacClient } from './mailsac-client'

// Issue #16 item 2: the email validation API through the official client, checked against
// Mailsac's schema; DNS answers come from a stub (no network in tests).

let owner: Awaited<ReturnType<typeof createAccount>>

beforeAll(async () => {
  owner = await createAccount()
  await json('/internal/admin/domains', {
    method: 'POST',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ domain: 'ours-validation.test', account: owner.id }),
  })
})

afterEach(() => vi.restoreAllMocks())

describe('GET /api/validations/addresses/:email through @mailsac/api (issue #16 item 2)', () => {
  it('finds a domain on the maintained disposable list, with its MX hosts as aliases', async () => {
    stubDns({ 'mailinator.com': { MX: ['10 mail.mailinator.com.', '20 mail2.mailinator.com.'] } })
    const response = await mailsacClient(owner.apiKey).emailValidation.validateAddress(
      'Jeff@Mailinator.com',
    )
    expect(response.status).toBe(200)
    expectMailsacShape('GET /validations/addresses/{email}', response.data)
    expect(response.data).toEqual({
      email: 'jeff@mailinator.com',
      validFormat: true,
      local: 'jeff',
      domain: 'mailinator.com',
      isDisposable: true,
      disposableDomains: ['mailinator.com', 'mail.mailinator.com', 'mail2.mailinator.com'],
      aliases: ['mail.mailinator.com', 'mail2.mailinator.com'],
    })
  })

  it('finds a custom domain whose mail goes to a disposable provider, through its MX', async () => {
    stubDns({ 'vanity.example': { MX: ['10 mx.mailinator.com.'] } })
    const { data } = await mailsacClient(owner.apiKey).emailValidation.validateAddress(
      'me@vanity.example',
    )
    expect(data).toMatchObject({
      isDisposable: true,
      disposableDomains: ['mx.mailinator.com'],
      aliases: ['mx.mailinator.com'],
    })
  })

  it('counts a domain an account owns here as disposable', async () => {
    stubDns({ 'ours-validation.test': { MX: ['10 route1.mx.cloudflare.net.'] } })
    const { data } = await mailsacClient(owner.apiKey).emailValidation.validateAddress(
      'anyone@ours-validation.test',
    )
    expect(data).toMatchObject({ isDisposable: true, disposableDomains: ['ours-validation.test'] })
  })

  it('answers not disposable for an ordinary domain', async () => {
    stubDns({ 'example.org': { MX: ['5 aspmx.l.google.com.'] } })
    const { data } = await mailsacClient(owner.apiKey).emailValidation.validateAddress(
      'billy.wilson@example.org',
    )
    expect(data).toEqual({
      email: 'billy.wilson@example.org',
      validFormat: true,
      local: 'billy.wilson',
      domain: 'example.org',
      isDisposable: false,
      disposableDomains: [],
      aliases: ['aspmx.l.google.com'],
    })
  })

  it('answers from the domain alone when DNS times out', async () => {
    stubDns({ 'mailinator.com': 'timeout', 'slow-dns.example': 'timeout' })
    const client = mailsacClient(owner.apiKey).emailValidation
    expect((await client.validateAddress('a@mailinator.com')).data).toMatchObject({
      isDisposable: true,
      aliases: [],
    })
    expect((await client.validateAddress('a@slow-dns.example')).data).toMatchObject({
      isDisposable: false,
      aliases: [],
    })
  })

  it('says an address is malformed without asking DNS', async () => {
    const asked = stubDns({})
    const { data } = await mailsacClient(owner.apiKey).emailValidation.validateAddress(
      'not an address',
    )
    // Echoed as given: Mailsac's schema says `format: email`, which a malformed one cannot be.
    expect(data).toEqual({
      email: 'not an address',
      validFormat: false,
      local: 'not an address',
      domain: '',
      isDisposable: false,
      disposableDomains: [],
      aliases: [],
    })
    expect(data).toMatchObject({ validFormat: false, isDisposable: false, aliases: [] })
    expect(asked).toEqual([])
  })

  it('needs an API key, as Mailsac does', async () => {
    const response = await mailsacClient().emailValidation.validateAddress('a@example.org')
    expect(response.status).toBe(401)
  })
})

describe('POST /api/validations/addresses through @mailsac/api (issue #16 item 2)', () => {
  it('validates each address in request order, one DNS lookup per domain', async () => {
    const asked = stubDns({
      'mailinator.com': { MX: ['10 mail.mailinator.com.'] },
      'example.org': { MX: ['5 aspmx.l.google.com.'] },
    })
    const response = await mailsacClient(owner.apiKey).emailValidation.validateAddressesBulk({
      emails: ['one@example.org', 'two@mailinator.com', 'three@example.org', '@bad'],
    })
    expect(response.status).toBe(200)
    // The malformed one is echoed as given, which Mailsac's `format: email` cannot describe.
    expectMailsacShape('POST /validations/addresses', response.data.slice(0, 3))
    expect(response.data.map((r) => [r.email, r.validFormat, r.isDisposable])).toEqual([
      ['one@example.org', true, false],
      ['two@mailinator.com', true, true],
      ['three@example.org', true, false],
      ['@bad', false, false],
    ])
    expect(asked.sort()).toEqual(['MX example.org', 'MX mailinator.com'])
  })

  it('refuses more than 50 addresses', async () => {
    stubDns({})
    const emails = Array.from({ length: 51 }, (_, i) => `a${i}@example.org`)
    const response = await mailsacClient(owner.apiKey).emailValidation.validateAddressesBulk({
      emails,
    })
    expect(response.status).toBe(400)
    expect((response.data as unknown as { message: string }).message).toMatch(/emails/)
  })
})
