import type { Domain } from '../../db/queries/domains'
import { verificationTxt } from '../../mail/domain-verification'

/** The OpenAPI `Domain` object (./schema.ts); the operator routes answer it too. */
export function domainJson(domain: Domain) {
  return {
    _id: domain.domain,
    owner: domain.owner,
    created: domain.created.toISOString(),
    // No settings of a domain change after it is assigned (issue #16 item 7).
    updated: domain.created.toISOString(),
    isPrivate: true,
    sendingVerified: domain.sendingVerified,
    // Catch-all mail of an owned domain reaches its owner's API websockets: there is no
    // per-domain switch (src/mail/fanout/notify.ts).
    enablews: true,
    hosted: false,
    isDefault: false,
    verified: domain.verified,
    verifiedMx: domain.verifiedMx,
    verificationTxt: verificationTxt(domain.verificationToken),
    lastVerificationErrors: domain.lastVerificationErrors,
    lastVerified: domain.lastVerified?.toISOString() ?? null,
  }
}

/**
 * `catchAllAddress` of GET /api/domains/:domain (OpenAPI `CatchAllAddress`): every address
 * at an owned domain is its owner's, with no settings of its own.
 */
export function catchAllAddressJson(domain: Domain) {
  return {
    _id: `*@${domain.domain}`,
    owner: domain.owner,
    created: domain.created.toISOString(),
    updated: domain.created.toISOString(),
    implicit: true,
    catchAll: domain.domain,
    enablews: true,
    enabledws: true,
    forward: null,
    webhook: null,
    webhookSlack: null,
    webhookSlackToFrom: false,
    encryptedInbox: null,
    info: null,
  }
}
