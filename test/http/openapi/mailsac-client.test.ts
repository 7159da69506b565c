import { createMessageBatch } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import worker from '../../../src/index'
import { ingestMessage } from '../../../src/mail/inbound/ingest'
import type { DeliveryJob } from '../../../src/mail/fanout/notify'
import { ADMIN, call, createAccount, ingest, json, reserve, simpleMessage } from '../../requests'
import { expectMailsacShape, mailsacClient } from './mailsac-client'

// Issue #16: each operation this round changed, called through the official client and checked
// against the schema of Mailsac's own openapi.json.

afterEach(() => vi.restoreAllMocks())

describe('links on message objects through @mailsac/api (issue #16 item 1)', () => {
  const LINKS = ['https://app.example/verify?t=1', 'https://app.example/help']
  const body = `Verify: ${LINKS[0]}\nHelp: ${LINKS[1]} or ${LINKS[0]}`

  it('lists them, de-duplicated and in order, on the list and the single message', async () => {
    const inbox = 'links@client-links.test'
    const [{ _id }] = await ingest(simpleMessage({ to: inbox, body }), [inbox])
    const client = mailsacClient()
    const list = await client.messages.listMessages(inbox)
    expectMailsacShape('GET /addresses/{email}/messages', list.data)
    expect(list.data.map((m) => m.links)).toEqual([LINKS])
    const one = await client.messages.getMessageMetadata(inbox, _id)
    expectMailsacShape('GET /addresses/{email}/messages/{messageId}', one.data)
    expect(one.data.links).toEqual(LINKS)
  })

  it('sends them in the webhook payload', async () => {
    const owner = await createAccount()
    const inbox = 'hook@client-links.test'
    await reserve(inbox, owner.apiKey)
    await json(`/api/addresses/${inbox}`, {
      method: 'PUT',
      headers: { ...owner.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ webhook: 'https://receiver.example.com/links' }),
    })
    const jobs: DeliveryJob[] = []
    const queue = {
      send: async (job: DeliveryJob) => void jobs.push(job),
      sendBatch: async (sent: Iterable<MessageSendRequest<DeliveryJob>>) => {
        for (const message of sent) jobs.push(message.body)
      },
    } as unknown as Queue
    await ingestMessage(
      { ...env, DELIVERIES: queue },
      new TextEncoder().encode(simpleMessage({ to: inbox, body })),
      { from: 'sender@example.org', to: [inbox] },
    )
    const payloads: { links?: string[] }[] = []
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      payloads.push(await new Request(input, init).json())
      return new Response('ok')
    })
    const batch = createMessageBatch<DeliveryJob>('mailsac-edge-deliveries', [
      { id: 'links-1', timestamp: new Date(), attempts: 1, body: jobs[0] },
    ])
    await worker.queue(batch, env)
    expect(payloads.map((p) => p.links)).toEqual([LINKS])
  })
})

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

describe('shapes the official client expects (issue #16 item 7)', () => {
  it('answers enabledws beside enablews on address objects', async () => {
    const owner = await createAccount()
    const client = mailsacClient(owner.apiKey)
    const created = await client.addresses.createAddress('ws@client-shape.test', { enablews: true })
    expect(created.data).toMatchObject({ enablews: true, enabledws: true })
    const listed = await client.addresses.listAddresses()
    expectMailsacShape('GET /addresses', listed.data)
    expect(listed.data[0]).toMatchObject({ enablews: true, enabledws: true, implicit: false })
    const unreserved = await client.addresses.getAddress('nobody@client-shape.test')
    expectMailsacShape('GET /addresses/{email}', unreserved.data)
    expect(unreserved.data).toMatchObject({ enablews: false, enabledws: false })
  })

  it('answers folder in the read status, and ?download=1 saves the headers', async () => {
    const owner = await createAccount()
    const client = mailsacClient(owner.apiKey)
    const inbox = 'read@client-shape.test'
    await reserve(inbox, owner.apiKey)
    const [{ _id }] = await ingest(simpleMessage({ to: inbox }), [inbox])
    const read = await client.messages.setMessageReadStatus(inbox, _id, true)
    expect(read.status).toBe(200)
    expectMailsacShape('PUT /addresses/{email}/messages/{messageId}/read/{readBoolean}', read.data)
    expect(read.data).toMatchObject({ _id, folder: true })
    const saved = await client.messages.getHeaders(inbox, _id, { download: 1 })
    expect(saved.status).toBe(200)
    expect(saved.headers['content-disposition']).toBe(`attachment; filename="${_id}-headers.json"`)
    expectMailsacShape('GET /addresses/{email}/messages/{messageId}/headers', saved.data)
    const shown = await client.messages.getHeaders(inbox, _id)
    expect(shown.headers['content-disposition']).toBeUndefined()
  })

  it('filters by andRead and searches without a query', async () => {
    const owner = await createAccount()
    const client = mailsacClient(owner.apiKey)
    const inbox = 'filter@client-shape.test'
    await reserve(inbox, owner.apiKey)
    const [{ _id: readId }] = await ingest(simpleMessage({ to: inbox, subject: 'one' }), [inbox])
    const [{ _id: unreadId }] = await ingest(simpleMessage({ to: inbox, subject: 'two' }), [inbox])
    await client.messages.setMessageReadStatus(inbox, readId, true)
    const unread = await client.messages.filterInboxMessages({ andRead: false })
    expect(unread.status).toBe(200)
    expect(unread.data.messages?.map((m) => (m as { _id?: string })._id)).toEqual([unreadId])
    const wasRead = await client.messages.filterInboxMessages({ andRead: true })
    expect(wasRead.data.messages?.map((m) => (m as { _id?: string })._id)).toEqual([readId])
    const everything = await client.messages.searchInboxMessages()
    expect(everything.status).toBe(200)
    expect(everything.data.messages?.map((m) => (m as { _id?: string })._id).sort()).toEqual(
      [readId, unreadId].sort(),
    )
  })

  it('answers catchAllAddress on a domain, and the account fields that mean something here', async () => {
    const owner = await createAccount()
    await call('/internal/admin/domains', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ domain: 'client-shape-owned.test', account: owner.id }),
    })
    const client = mailsacClient(owner.apiKey)
    const domain = await client.domains.getDomain('client-shape-owned.test')
    expect(domain.status).toBe(200)
    expectMailsacShape('GET /domains/{domain}', domain.data)
    expect(domain.data).toMatchObject({
      catchAllAddress: { _id: '*@client-shape-owned.test', implicit: true, owner: owner.id },
    })
    const domains = await client.domains.listDomains()
    expectMailsacShape('GET /domains', domains.data)
    const inbox = 'labels@client-shape.test'
    await reserve(inbox, owner.apiKey)
    const [{ _id }] = await ingest(simpleMessage({ to: inbox }), [inbox])
    await client.messages.addMessageLabel(inbox, _id, 'work')
    const me = await client.account.user()
    expect(me.status).toBe(200)
    expectMailsacShape('GET /me', me.data)
    expect(me.data).toMatchObject({ labels: ['work'], apiAccess: 1 })
    const stats = await client.account.accountStats()
    expect(stats.status).toBe(200)
    expectMailsacShape('GET /me/stats', stats.data)
  })
})

describe('GET /api/addresses/:email/messages/:id/attachments through @mailsac/api (issue #16 item 7)', () => {
  it('answers each attachment’s transferEncoding as sent, 7bit when the part names none', async () => {
    const raw = [
      'From: Sender <sender@example.org>',
      'To: files@client.test',
      'Subject: encodings',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'See attached',
      '--b',
      'Content-Type: application/pdf; name="a.pdf"',
      'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: Base64',
      '',
      btoa('%PDF-1.4 not really'),
      '--b',
      'Content-Type: text/csv; name="b.csv"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'a,b=2Cc',
      '--b',
      'Content-Type: application/octet-stream; name="c.bin"',
      'Content-Disposition: attachment; filename="c.bin"',
      '',
      'plain bytes',
      '--b--',
      '',
    ].join('\r\n')
    const [{ _id }] = await ingest(raw, ['files@client.test'])
    const response = await mailsacClient().attachments.listMessageAttachments(
      'files@client.test',
      _id,
    )
    expect(response.status).toBe(200)
    expectMailsacShape('GET /addresses/{email}/messages/{messageId}/attachments', response.data, {
      items: true,
    })
    const list = response.data as unknown as { fileName: string; transferEncoding?: string }[]
    expect(list.map((a) => [a.fileName, a.transferEncoding])).toEqual([
      ['a.pdf', 'base64'],
      ['b.csv', 'quoted-printable'],
      ['c.bin', '7bit'],
    ])
  })
})
