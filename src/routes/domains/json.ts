import type { Domain } from '../../db/queries/domains'

/** The OpenAPI `Domain` object (./schema.ts); the operator routes answer it too. */
export function domainJson(domain: Domain) {
  return {
    _id: domain.domain,
    owner: domain.owner,
    created: domain.created.toISOString(),
    isPrivate: true,
    sendingVerified: domain.sendingVerified,
  }
}
