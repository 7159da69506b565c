import { EmailMessage } from 'cloudflare:email'
import { sendEmailRefusalHint, sendEmailRefusalIsPermanent } from './send-email-errors'
import { database } from '../../db/client'
import { refundSends, spendSends, type Account } from '../../db/queries/accounts'
import { findDomain } from '../../db/queries/domains'
import { recordOutboundMessage } from '../../db/queries/outbound'
import { refuse as fail } from '../../lib/status-error'
import { domainOf } from '../../lib/address'
import type { OutboundMessage } from './compose'
import type { StoredMessage } from '../inbound/arrival'
import { ingestMessage, type IngestBindings } from '../inbound/ingest'
import { Refusal } from '../refusal'
import { randomString } from '../../lib/random'
import { receivesFor } from '../accepted-domains'

export type SendBindings = IngestBindings & Pick<Env, 'EMAIL'>

/** What became of one recipient. */
export type RecipientOutcome =
  | { address: string; delivered: true; via: 'inbox'; _id: string; inbox: string }
  | { address: string; delivered: true; via: 'send_email' }
  | {
      address: string
      delivered: false
      via: 'inbox' | 'send_email'
      permanent: boolean
      error: string
    }

export type SendResult = {
  _id: string
  messageId: string
  from: string
  to: string[]
  subject: string
  size: number
  sendsRemaining: number
  recipients: RecipientOutcome[]
}

/** Mailsac's NotEnoughCreditsResponse text. */
export const NOT_ENOUGH_CREDITS = 'You must purchase more outgoing messages before you can send'

/**
 * A recipient is local when this service receives its mail: exactly the rule inbound mail
 * follows (`ACCEPTED_DOMAINS` lists the domain, or is empty and the service is a catch-all).
 * Local recipients get the message straight in their inbox; nothing else leaves the service,
 * so with the default empty setting no outbound mail reaches the internet at all.
 */
function isLocal(address: string, acceptedDomainsSetting: string | undefined): boolean {
  return receivesFor(address, acceptedDomainsSetting)
}

/** The From and MAIL FROM domains must be the account's own, verified for sending. */
async function authorizeSender(env: SendBindings, account: Account, addresses: string[]) {
  const db = database(env.DB)
  for (const domain of new Set(addresses.map(domainOf))) {
    const row = await findDomain(db, domain)
    if (!row || row.owner !== account.id || !row.sendingVerified) {
      fail(
        401,
        `Sending from ${domain} is not allowed: it must be one of your domains, verified for ` +
          'sending (npm run admin -- domain verify-sending).',
      )
    }
  }
}

async function deliverLocally(
  env: SendBindings,
  message: OutboundMessage,
  recipients: string[],
  now: Date,
): Promise<RecipientOutcome[]> {
  let stored: StoredMessage[]
  try {
    stored = await ingestMessage(
      env,
      message.raw,
      { from: message.envelopeFrom, to: recipients, ip: null },
      now,
    )
  } catch (error) {
    if (!(error instanceof Refusal)) throw error
    return recipients.map((address) => ({
      address,
      delivered: false,
      via: 'inbox',
      permanent: error.permanent,
      error: error.message,
    }))
  }
  // One stored message per distinct inbox, in recipient order; a private address's alias
  // lands in that private inbox, so match by position when the counts agree.
  return recipients.map((address, index) => {
    const row =
      stored.length === recipients.length
        ? stored[index]
        : (stored.find((m) => m.inbox === address) ?? stored[0])
    return { address, delivered: true, via: 'inbox', _id: row._id, inbox: row.inbox }
  })
}

async function relay(
  env: SendBindings,
  message: OutboundMessage,
  recipient: string,
): Promise<RecipientOutcome> {
  try {
    // send_email takes one envelope recipient per message, and insists the envelope sender
    // is the From header's address.
    await env.EMAIL.send(
      new EmailMessage(message.from, recipient, new Response(message.relayRaw).body!),
    )
    return { address: recipient, delivered: true, via: 'send_email' }
  } catch (error) {
    console.error(`send_email to ${recipient} failed: ${(error as Error).message}`)
    const permanent = sendEmailRefusalIsPermanent(error)
    const hint = sendEmailRefusalHint(error)
    return {
      address: recipient,
      delivered: false,
      via: 'send_email',
      permanent,
      error: `send_email refused the message: ${(error as Error).message}${hint ? ` (${hint})` : ''}`,
    }
  }
}

/**
 * Sends a prepared message for an account: checks the sender domain, spends one credit per
 * recipient atomically (a conditional UPDATE, so concurrent sends never overdraw), delivers
 * local recipients into their inboxes and relays the others through send_email, gives back
 * the credit of every recipient that failed and records the send in `outbound_messages`.
 * When no recipient got the message, answers with an error (nothing is charged): 503 if a
 * retry could help, else the refusal's own status.
 */
export async function sendOutbound(
  env: SendBindings,
  account: Account,
  message: OutboundMessage,
  now = new Date(),
): Promise<SendResult> {
  await authorizeSender(env, account, [...message.senders, message.envelopeFrom])
  const db = database(env.DB)
  const count = message.recipients.length
  let sendsRemaining = await spendSends(db, account.id, count)
  if (sendsRemaining === null) fail(402, NOT_ENOUGH_CREDITS)

  const local = message.recipients.filter((address) => isLocal(address, env.ACCEPTED_DOMAINS))
  const remote = message.recipients.filter((address) => !local.includes(address))
  let outcomes: RecipientOutcome[]
  try {
    const settled = await Promise.all([
      local.length > 0 ? deliverLocally(env, message, local, now) : [],
      ...remote.map((address) => relay(env, message, address)),
    ])
    const byAddress = new Map(settled.flat().map((outcome) => [outcome.address, outcome]))
    outcomes = message.recipients.map((address) => byAddress.get(address) as RecipientOutcome)
  } catch (error) {
    await refundSends(db, account.id, count)
    throw error
  }

  const failed = outcomes.filter((outcome) => !outcome.delivered)
  if (failed.length > 0) sendsRemaining = (await refundSends(db, account.id, failed.length)) ?? 0

  const id = randomString(24)
  try {
    await recordOutboundMessage(db, {
      id,
      account: account.id,
      messageIdHeader: message.messageId,
      from: message.from,
      recipients: message.recipients,
      subject: message.subject,
      size: message.raw.byteLength,
      outcome: outcomes,
      created: now,
    })
  } catch (error) {
    // The mail is already delivered: failing the request now would invite a duplicate send.
    console.error(`recording outbound message ${id} failed: ${(error as Error).message}`)
  }

  if (failed.length === count) {
    const reasons = new Set(failed.map((outcome) => (outcome.delivered ? '' : outcome.error)))
    const temporary = failed.some((outcome) => !outcome.delivered && !outcome.permanent)
    fail(
      temporary ? 503 : 400,
      `No recipient received the message (no credit was used): ${[...reasons].join('; ')}`,
    )
  }

  return {
    _id: id,
    messageId: message.messageId,
    from: message.from,
    to: message.recipients,
    subject: message.subject,
    size: message.raw.byteLength,
    sendsRemaining,
    recipients: outcomes,
  }
}
