import { database } from '../db/client'
import { findPrivateAddressesFor } from '../db/queries/addresses'
import { insertDelivery, touchAttachmentBlobs, type NewMessageRow } from '../db/queries/messages'
import { MAX_MESSAGE_BYTES, MAX_RECIPIENTS_PER_MESSAGE } from '../limits'
import { domainOf, normalizeAddress } from './address'
import { parseMessage, type ParsedMessage } from './parse'
import { randomString } from './random'
import { sanitizeHtml } from './sanitize'
import { attachmentKey, contentKey, rawKey, type MessageContent } from './storage'

/** The SMTP envelope of a delivery. */
export type Envelope = { from: string; to: string[]; ip?: string | null }

export type StoredMessage = { _id: string; inbox: string }

/** The bindings the pipeline touches; tests pass a bucket that fails to prove no mail is lost. */
export type IngestBindings = Pick<Env, 'DB' | 'MAIL'> & { ACCEPTED_DOMAINS?: string }

/**
 * Why a delivery was not stored. `permanent` refusals (bad envelope, too large, not a domain
 * we serve) must not be retried; temporary ones (storage failed) must be, so the sender keeps
 * the mail: SMTP 4xx, `/internal/ingest` 503, and an exception out of `email()`.
 */
export class IngestRefusal extends Error {
  constructor(
    readonly permanent: boolean,
    readonly status: 400 | 403 | 413 | 503,
    message: string,
  ) {
    super(message)
    this.name = 'IngestRefusal'
  }
}

function acceptedDomains(setting: string | undefined): Set<string> | null {
  const domains = (setting ?? '')
    .split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean)
  return domains.length > 0 ? new Set(domains) : null
}

/** Validates and de-duplicates the envelope recipients. */
function envelopeRecipients(to: string[], setting: string | undefined): string[] {
  if (to.length === 0) throw new IngestRefusal(true, 400, 'The envelope has no recipient.')
  const accepted = acceptedDomains(setting)
  const recipients = new Set<string>()
  for (const input of to) {
    const address = normalizeAddress(input)
    if (!address) throw new IngestRefusal(true, 400, `Invalid recipient address: ${input}`)
    if (accepted && !accepted.has(domainOf(address))) {
      throw new IngestRefusal(true, 403, `This service does not accept mail for ${address}.`)
    }
    recipients.add(address)
  }
  if (recipients.size > MAX_RECIPIENTS_PER_MESSAGE) {
    throw new IngestRefusal(
      true,
      400,
      `At most ${MAX_RECIPIENTS_PER_MESSAGE} recipients per message.`,
    )
  }
  return [...recipients]
}

async function parseOrRefuse(raw: Uint8Array): Promise<ParsedMessage> {
  try {
    return await parseMessage(raw)
  } catch (error) {
    throw new IngestRefusal(
      true,
      400,
      `The message could not be parsed: ${(error as Error).message}`,
    )
  }
}

/**
 * Stores one delivery: the exact raw bytes and the parsed bodies in R2, each attachment once
 * in R2 under its MD5, and one metadata row per recipient inbox in D1. Resolves only when
 * everything is durable; throws an `IngestRefusal` otherwise, having stored no row.
 */
export async function ingestMessage(
  env: IngestBindings,
  raw: Uint8Array,
  envelope: Envelope,
  now = new Date(),
): Promise<StoredMessage[]> {
  if (raw.byteLength > MAX_MESSAGE_BYTES) {
    throw new IngestRefusal(true, 413, `Message exceeds the ${MAX_MESSAGE_BYTES} byte limit.`)
  }
  const recipients = envelopeRecipients(envelope.to, env.ACCEPTED_DOMAINS)
  const parsed = await parseOrRefuse(raw)
  const db = database(env.DB)

  let stage = 'routing'
  const deliveryId = randomString(24)
  const keys = { raw: rawKey(deliveryId), content: contentKey(deliveryId) }
  try {
    // Mail to a private address's encryptedInbox lands in that private inbox, with
    // originalInbox keeping the alias it was sent to (seed: "originalInbox").
    const owned = await findPrivateAddressesFor(db, recipients)
    const aliasOf = new Map(owned.map((address) => [address.encryptedInbox, address.email]))
    const deliveries = new Map<string, string>()
    for (const recipient of recipients) {
      const inbox = aliasOf.get(recipient) ?? recipient
      if (!deliveries.has(inbox)) deliveries.set(inbox, recipient)
    }

    const blobs = new Map(parsed.attachments.map((a) => [a.md5, a]))
    stage = 'D1 (attachment blobs)'
    await touchAttachmentBlobs(
      db,
      [...blobs.values()].map((a) => ({ md5: a.md5, size: a.bytes.byteLength })),
      now,
    )

    stage = 'R2'
    const content: MessageContent = {
      text: parsed.text,
      html: parsed.html,
      body: await sanitizeHtml(parsed.html),
    }
    await Promise.all([
      env.MAIL.put(keys.raw, raw, { httpMetadata: { contentType: 'message/rfc822' } }),
      env.MAIL.put(keys.content, JSON.stringify(content), {
        httpMetadata: { contentType: 'application/json' },
      }),
      ...[...blobs.values()].map((a) =>
        env.MAIL.put(attachmentKey(a.md5), a.bytes, {
          httpMetadata: { contentType: a.contentType },
        }),
      ),
    ])

    stage = 'D1 (messages)'
    const md5s = parsed.attachments.map((a) => a.md5)
    const rows: NewMessageRow[] = [...deliveries].map(([inbox, originalInbox], index) => ({
      id: `${deliveryId}-${index}`,
      inbox,
      originalInbox,
      domain: domainOf(inbox),
      from: parsed.from,
      to: parsed.to.length > 0 ? parsed.to : [{ name: '', address: originalInbox }],
      cc: parsed.cc,
      bcc: parsed.bcc,
      subject: parsed.subject,
      received: now,
      size: raw.byteLength,
      attachments: [...new Set(md5s)],
      labels: [],
      headers: parsed.headers,
      envelopeFrom: envelope.from,
      ip: envelope.ip ?? null,
      rawKey: keys.raw,
      contentKey: keys.content,
    }))
    await insertDelivery(
      db,
      rows,
      parsed.attachments.map((a, position) => ({
        position,
        md5: a.md5,
        filename: a.filename,
        contentType: a.contentType,
        contentDisposition: a.contentDisposition,
        contentId: a.contentId,
        size: a.bytes.byteLength,
      })),
    )
    return rows.map((row) => ({ _id: row.id, inbox: row.inbox }))
  } catch (error) {
    // Nothing references this delivery's own objects; shared attachment blobs stay (another
    // message may use them) and are reclaimed by the retention sweep when unreferenced.
    await env.MAIL.delete([keys.raw, keys.content]).catch(() => undefined)
    console.error(`ingest failed at ${stage}: ${(error as Error).message}`)
    throw new IngestRefusal(false, 503, `Temporary storage failure (${stage}); try again later.`)
  }
}
