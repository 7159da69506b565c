import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../../src/index'
import { database } from '../../../src/db/client'
import { findDelivery } from '../../../src/db/queries/deliveries'
import type { DeliveryJob } from '../../../src/mail/fanout/notify'
import { ingestMessage } from '../../../src/mail/inbound/ingest'
import { ADMIN, createAccount, json, reserve, simpleMessage } from '../../requests'

// What Email Routing's send_email binding throws for a recipient that is not one of the
// account's verified destination addresses (issue #14, outbound honesty).
const UNVERIFIED = 'E_RECIPIENT_NOT_ALLOWED: destination address is not a verified address'

function refusingBinding() {
  const sends: string[] = []
  const EMAIL = {
    send: async (message: EmailMessage) => {
      sends.push(message.to)
      throw new Error(UNVERIFIED)
    },
  } as unknown as SendEmail
  return { EMAIL, sends }
}

async function sendingAccount(domain: string) {
  const account = await createAccount({ sendsRemaining: 5 })
  for (const [path, body] of [
    ['/internal/admin/domains', { domain, account: account.id }],
    [`/internal/admin/domains/${domain}/sending`, { verified: true }],
  ] as const) {
    await json(path, {
      method: path.endsWith('sending') ? 'PUT' : 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
  }
  return account
}

describe('send_email refusals that a retry cannot fix', () => {
  it('#14.6 answers POST /api/outgoing-messages 400 with Cloudflare’s reason, not 503', async () => {
    const account = await sendingAccount('honest-send.test')
    const { EMAIL, sends } = refusingBinding()
    const response = await worker.fetch(
      new Request('http://mail.test/api/outgoing-messages', {
        method: 'POST',
        headers: { 'Mailsac-Key': account.apiKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          to: 'someone@elsewhere.example',
          from: 'app@honest-send.test',
          text: 'x',
        }),
      }),
      { ...env, EMAIL, ACCEPTED_DOMAINS: 'inbox.test' },
      createExecutionContext(),
    )
    const body = await response.json<{ message: string }>()
    expect(response.status).toBe(400)
    expect(sends).toEqual(['someone@elsewhere.example'])
    expect(body.message).toContain('not a verified address')
    expect(body.message).toContain('verified destination addresses')
    const me = await json('/api/me', { headers: { 'Mailsac-Key': account.apiKey } })
    expect(me.sendsRemaining).toBe(5)
  })

  it('#14.5 marks a forward to an unverified destination failed on its first attempt', async () => {
    const owner = await createAccount({ sendsRemaining: 5 })
    await reserve('fwd@honest.test', owner.apiKey)
    await json('/api/addresses/fwd@honest.test', {
      method: 'PUT',
      headers: { 'Mailsac-Key': owner.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ forward: 'someone@elsewhere.example' }),
    })
    const jobs: DeliveryJob[] = []
    const queue = {
      send: async (body: DeliveryJob) => void jobs.push(body),
      sendBatch: async (messages: Iterable<MessageSendRequest<DeliveryJob>>) => {
        for (const message of messages) jobs.push(message.body)
      },
    } as unknown as Queue
    const [stored] = await ingestMessage(
      { ...env, DELIVERIES: queue },
      new TextEncoder().encode(simpleMessage({ to: 'fwd@honest.test' })),
      { from: 'sender@example.org', to: ['fwd@honest.test'] },
    )
    expect(jobs).toEqual([{ deliveryId: `${stored._id}.forward` }])
    const batch = createMessageBatch<DeliveryJob>('mailsac-edge-deliveries', [
      { id: 'fwd-1', timestamp: new Date(), attempts: 1, body: jobs[0] },
    ])
    const ctx = createExecutionContext()
    await worker.queue(batch, { ...env, EMAIL: refusingBinding().EMAIL })
    const result = await getQueueResult(batch, ctx)
    expect(result.explicitAcks).toEqual(['fwd-1'])
    expect(result.retryMessages).toEqual([])
    const delivery = await findDelivery(database(env.DB), `${stored._id}.forward`)
    expect(delivery).toMatchObject({ status: 'failed' })
    expect(delivery?.lastError).toContain('not a verified address')
  })

  it('#14.6 GET /api/limits says who outbound mail can reach and how to onboard a domain', async () => {
    const limits = await json('/api/limits')
    expect(limits.outbound).toMatchObject({ maxRecipients: 3, maxBytes: 25 * 1024 * 1024 })
    expect(limits.outbound.reachable).toContain('verified destination addresses only')
    expect(limits.outbound.onboarding).toContain('Email Service')
    expect(limits.messages).toMatchObject({ maxAttachments: 100, storedAddressesPerHeader: 1000 })
  })
})
