import { describe, expect, it } from 'vitest'
import { createAccount, ingest, reserve, simpleMessage } from '../../requests'
import { expectMailsacShape, mailsacClient } from './mailsac-client'

// Issue #16: each operation this round changed, called through the official client and checked
// against the schema of Mailsac's own openapi.json.

describe('POST /api/addresses/:email through @mailsac/api (issue #16 item 3)', () => {
  it('reserves the address with the settings of its body', async () => {
    const owner = await createAccount()
    const client = mailsacClient(owner.apiKey)
    const response = await client.addresses.createAddress('settings@client.test', {
      forward: 'me@example.org',
      enablews: true,
      webhookSlackToFrom: true,
      info: 'signup tests',
    })
    expect(response.status).toBe(200)
    expectMailsacShape('POST /addresses/{email}', response.data)
    expect(response.data).toMatchObject({
      _id: 'settings@client.test',
      forward: 'me@example.org',
      enablews: true,
      info: 'signup tests',
    })
    const read = await client.addresses.getAddress('settings@client.test')
    expect(read.data).toMatchObject({ forward: 'me@example.org', enablews: true })
  })

  it('refuses a body the PUT would refuse, and spends no credit on it', async () => {
    const owner = await createAccount({ privateAddressCredits: 1 })
    const client = mailsacClient(owner.apiKey)
    const bad = await client.addresses.createAddress('bad-forward@client.test', {
      forward: 'not an address',
    })
    expect(bad.status).toBe(400)
    expect((bad.data as unknown as { message: string }).message).toMatch(/forward/)
    expect((await client.addresses.getAddress('bad-forward@client.test')).data).not.toHaveProperty(
      'owner',
    )
    const good = await client.addresses.createAddress('good@client.test')
    expect(good.status).toBe(200)
  })
})

describe('POST /api/private-addresses-bulk through @mailsac/api (issue #16 item 4)', () => {
  it('answers 400 and reserves none when the credits do not cover every address', async () => {
    const owner = await createAccount({ privateAddressCredits: 2 })
    const client = mailsacClient(owner.apiKey)
    const emails = ['one@bulk-client.test', 'two@bulk-client.test', 'three@bulk-client.test']
    const refused = await client.addresses.createAddresses({ addresses: emails })
    expect(refused.status).toBe(400)
    expect((refused.data as unknown as { message: string }).message).toMatch(/credits/)
    expect((await client.addresses.listAddresses()).data).toEqual([])
    const reserved = await client.addresses.createAddresses({ addresses: emails.slice(0, 2) })
    expect(reserved.status).toBe(200)
    expectMailsacShape('POST /private-addresses-bulk', reserved.data)
    expect((reserved.data as { _id: string }[]).map((a) => a._id)).toEqual(emails.slice(0, 2))
  })

  it('does not count addresses it cannot reserve anyway', async () => {
    const owner = await createAccount({ privateAddressCredits: 1 })
    const other = await createAccount()
    await reserve('taken@bulk-client.test', other.apiKey)
    const client = mailsacClient(owner.apiKey)
    const response = await client.addresses.createAddresses({
      addresses: ['taken@bulk-client.test', 'mine@bulk-client.test'],
    })
    expect(response.status).toBe(200)
    expect((response.data as { _id: string; owner?: string }[]).map((a) => a.owner)).toEqual([
      undefined,
      owner.id,
    ])
  })
})

describe('mailstats through @mailsac/api, which sends no dates (issue #16 item 5)', () => {
  it('answers top addresses, senders and domains and common attachments', async () => {
    await ingest(simpleMessage({ to: 'stats@client-stats.test' }), ['stats@client-stats.test'])
    const client = mailsacClient()
    const addresses = await client.messageStats.listTopPublicAddresses({ limit: 1000 })
    expect(addresses.status).toBe(200)
    expectMailsacShape('GET /mailstats/top-addresses', addresses.data, { items: true })
    expect(addresses.data).toContainEqual({ _id: 'stats@client-stats.test', n: 1 })
    const senders = await client.messageStats.listTopPublicSenders()
    expect(senders.status).toBe(200)
    expectMailsacShape('GET /mailstats/top-senders', senders.data, { items: true })
    const domains = await client.messageStats.listTopPublicDomains({ limit: 1000 })
    expect(domains.status).toBe(200)
    expectMailsacShape('GET /mailstats/top-domains', domains.data, { items: true })
    expect(domains.data).toContainEqual({ _id: 'client-stats.test', n: 1 })
    // The client types startDate/endDate as required here; the API does not need them.
    const attachments = await client.attachments.listPublicAttachments(
      {} as Parameters<typeof client.attachments.listPublicAttachments>[0],
    )
    expect(attachments.status).toBe(200)
    expectMailsacShape('GET /mailstats/common-attachments', attachments.data)
  })
})

describe('GET /api/addresses/starred/messages through @mailsac/api (issue #16 item 6)', () => {
  it('lists every starred message, not the first 20', async () => {
    const owner = await createAccount()
    const client = mailsacClient(owner.apiKey)
    const inbox = 'starred@client-star.test'
    const ids: string[] = []
    for (let i = 0; i < 25; i++) {
      const [{ _id }] = await ingest(simpleMessage({ to: inbox, subject: `n${i}` }), [inbox])
      ids.push(_id)
      expect((await client.messages.toggleMessageStar(inbox, _id)).status).toBe(200)
    }
    const starred = await client.messages.listStarredMessages()
    expect(starred.status).toBe(200)
    expectMailsacShape('GET /addresses/starred/messages', starred.data)
    expect(starred.data.map((m) => m._id).sort()).toEqual(ids.sort())
  })
})
