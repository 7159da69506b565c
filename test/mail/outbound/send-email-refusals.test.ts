import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../../src/index'
import { database } from '../../../src/db/client'
import { findDelivery } from '../../../src/db/queries/deliveries'
import type { DeliveryJob } from '../../../src/mail/fanout/notify'
import { ingestMessage } from '../../../src/mail/inbound/ingest'
import { MAX_MESSAGE_BYTES } from '../../../src/limits'
import {
  sendEmailRefusalIsPermanent,
  SEND_EMAIL_MAX_BYTES,
} from '../../../src/mail/outbound/send-email-errors'
import { ADMIN, createAccount, json, reserve, simpleMessage } from '../../requests'

// What Email Routing's send_email binding throws for a recipient that is not one of the
// account's verified destination addresses (issue #14, outbound honesty).
const UNVERIFIED = 'E_RECIPIENT_NOT_ALLOWED: destination address is not a verified address'

/** An error as the binding throws it: Email Service's code on `code`, and in the text. */
function bindingError(code: string, text: string) {
  return Object.assign(new Error(`${code}: ${text}`), { code })
}

function refusingBinding(error: () => Error = () => new Error(UNVERIFIED)) {
  const sends: string[] = []
  const EMAIL = {
    send: async (message: EmailMessage) => {
      sends.push(message.to)
      throw error()
    },
  } as unknown as SendEmail
  return { EMAIL, sends }
}

/** A private address forwarding to `forward`, one message ingested for it, its job. */
async function forwardingInbox(address: string, raw: Uint8Array | string) {
  const owner = await createAccount({ sendsRemaining: 5 })
  await reserve(address, owner.apiKey)
  await json(`/api/addresses/${address}`, {
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
    typeof raw === 'string' ? new TextEncoder().encode(raw) : raw,
    { from: 'sender@example.org', to: [address] },
  )
  expect(jobs).toEqual([{ deliveryId: `${stored._id}.forward` }])
  return { owner, stored, job: jobs[0] }
}

/** One queue attempt of `job` with `EMAIL` as the binding. */
async function attempt(job: DeliveryJob, EMAIL: SendEmail, attempts = 1) {
  const batch = createMessageBatch<DeliveryJob>('mailsac-edge-deliveries', [
    { id: `fwd-${attempts}`, timestamp: new Date(), attempts, body: job },
  ])
  const ctx = createExecutionContext()
  await worker.queue(batch, { ...env, EMAIL })
  return getQueueResult(batch, ctx)
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
    const { stored, job } = await forwardingInbox(
      'fwd@honest.test',
      simpleMessage({ to: 'fwd@honest.test' }),
    )
    const result = await attempt(job, refusingBinding().EMAIL)
    expect(result.explicitAcks).toEqual(['fwd-1'])
    expect(result.retryMessages).toEqual([])
    const delivery = await findDelivery(database(env.DB), `${stored._id}.forward`)
    expect(delivery).toMatchObject({ status: 'failed' })
    expect(delivery?.lastError).toContain('not a verified address')
  })

  it('#14.5 tells a retry that cannot help from one that can, by the binding’s error code', () => {
    for (const code of [
      'E_RECIPIENT_NOT_ALLOWED',
      'E_RECIPIENT_SUPPRESSED',
      'E_SENDER_NOT_VERIFIED',
      'E_SENDER_DOMAIN_NOT_AVAILABLE',
      'E_CONTENT_TOO_LARGE',
      'E_TOO_MANY_RECIPIENTS',
      'E_VALIDATION_ERROR',
      'E_HEADER_VALUE_TOO_LONG',
      'E_HEADERS_TOO_LARGE',
    ]) {
      expect([code, sendEmailRefusalIsPermanent(bindingError(code, 'refused'))]).toEqual([
        code,
        true,
      ])
      // The code alone in the text (an error crossing a boundary that drops `code`).
      expect([code, sendEmailRefusalIsPermanent(new Error(`${code}: refused`))]).toEqual([
        code,
        true,
      ])
    }
    for (const code of [
      'E_RATE_LIMIT_EXCEEDED',
      'E_DAILY_LIMIT_EXCEEDED',
      'E_DELIVERY_FAILED',
      'E_INTERNAL_SERVER_ERROR',
    ]) {
      expect([code, sendEmailRefusalIsPermanent(bindingError(code, 'later'))]).toEqual([
        code,
        false,
      ])
    }
    expect(sendEmailRefusalIsPermanent(new Error('Network connection lost.'))).toBe(false)
    expect(sendEmailRefusalIsPermanent(new Error(UNVERIFIED.slice(25)))).toBe(true)
  })

  it('#14.5 fails a forward Cloudflare finds too large on its first attempt, with the size limit', async () => {
    const { owner, stored, job } = await forwardingInbox(
      'fwd-large@honest.test',
      simpleMessage({ to: 'fwd-large@honest.test' }),
    )
    const binding = refusingBinding(() =>
      bindingError('E_CONTENT_TOO_LARGE', 'message exceeds the maximum size'),
    )
    const result = await attempt(job, binding.EMAIL)
    expect(binding.sends).toEqual(['someone@elsewhere.example'])
    expect(result.explicitAcks).toEqual(['fwd-1'])
    expect(result.retryMessages).toEqual([])
    const delivery = await findDelivery(database(env.DB), `${stored._id}.forward`)
    expect(delivery).toMatchObject({ status: 'failed' })
    expect(delivery?.lastError).toContain('E_CONTENT_TOO_LARGE')
    expect(delivery?.lastError).toContain('5 MiB')
    const me = await json('/api/me', { headers: { 'Mailsac-Key': owner.apiKey } })
    expect(me.sendsRemaining).toBe(5)
  })

  it('#14.5 retries a forward refused for a rate limit, a refusal that can pass', async () => {
    const { stored, job } = await forwardingInbox(
      'fwd-rate@honest.test',
      simpleMessage({ to: 'fwd-rate@honest.test' }),
    )
    const binding = refusingBinding(() =>
      bindingError('E_RATE_LIMIT_EXCEEDED', 'rate limit exceeded'),
    )
    const result = await attempt(job, binding.EMAIL)
    expect(result.retryMessages).toEqual([expect.objectContaining({ msgId: 'fwd-1' })])
    const delivery = await findDelivery(database(env.DB), `${stored._id}.forward`)
    expect(delivery?.status).not.toBe('failed')
  })

  it('#14.5 fails a forward whose copy would exceed what send_email takes, without sending', async () => {
    // Stored at exactly the inbound limit; the forward adds From, Message-ID and X- headers.
    expect(SEND_EMAIL_MAX_BYTES).toBe(MAX_MESSAGE_BYTES)
    const head = simpleMessage({ to: 'fwd-full@honest.test', subject: 'at the limit', body: '' })
    const line = 'x'.repeat(998) + '\r\n'
    const fill = MAX_MESSAGE_BYTES - head.length
    const raw = head + line.repeat(Math.floor(fill / line.length)) + 'y'.repeat(fill % line.length)
    expect(raw.length).toBe(MAX_MESSAGE_BYTES)
    const { owner, stored, job } = await forwardingInbox('fwd-full@honest.test', raw)
    const sends: string[] = []
    const EMAIL = {
      send: async (message: EmailMessage) => void sends.push(message.to),
    } as unknown as SendEmail
    const result = await attempt(job, EMAIL)
    expect(sends).toEqual([])
    expect(result.explicitAcks).toEqual(['fwd-1'])
    const delivery = await findDelivery(database(env.DB), `${stored._id}.forward`)
    expect(delivery).toMatchObject({ status: 'failed' })
    expect(delivery?.lastError).toMatch(/send_email takes at most 26214400/)
    const me = await json('/api/me', { headers: { 'Mailsac-Key': owner.apiKey } })
    expect(me.sendsRemaining).toBe(5)
  })

  it('#14.6 GET /api/limits says who outbound mail can reach and how to onboard a domain', async () => {
    const limits = await json('/api/limits')
    expect(limits.outbound).toMatchObject({ maxRecipients: 3, maxBytes: 25 * 1024 * 1024 })
    expect(limits.outbound.reachable).toContain('verified destination addresses only')
    expect(limits.outbound.onboarding).toContain('Email Service')
    expect(limits.messages).toMatchObject({ maxAttachments: 100, storedAddressesPerHeader: 1000 })
  })
})
