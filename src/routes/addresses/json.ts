import type { PrivateAddress } from '../../db/queries/addresses'
import type { DeliveryRow } from '../../db/queries/deliveries'

/** The Mailsac address object (OpenAPI `Address` in ./schema.ts). */
export function addressJson(address: PrivateAddress) {
  return {
    _id: address.email,
    owner: address.owner,
    created: address.created.toISOString(),
    updated: address.updated.toISOString(),
    enablews: address.enablews,
    // Mailsac's OpenAPI document spells it so; the seed and the API say enablews. Both are sent.
    enabledws: address.enablews,
    forward: address.forward,
    webhook: address.webhook,
    webhookSlack: address.webhookSlack,
    webhookSlackToFrom: address.webhookSlackToFrom,
    encryptedInbox: address.encryptedInbox,
    // Reserved on its own, so never implicit nor a catch-all (those are the unreserved
    // addresses of an owned domain, GET /api/addresses/:email).
    implicit: false,
    catchAll: null,
    info: address.info,
    // The key signing this address's webhook requests (docs/realtime.md). This object only
    // ever goes to the address's owner.
    webhookSecret: address.webhookSecret,
  }
}

/** The delivery object of GET /api/addresses/:email/webhook-deliveries (OpenAPI `Delivery`). */
export function deliveryJson(row: DeliveryRow) {
  return {
    _id: row.id,
    address: row.address,
    messageId: row.messageId,
    kind: row.kind,
    target: row.target,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    created: row.created.toISOString(),
    updated: row.updated.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  }
}
