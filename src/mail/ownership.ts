// Handing state over without leaking mail. Every transition here keeps one promise: mail that
// was private to an account is never seen by anyone else afterwards (README, "Privacy").
import type { Database } from '../db/client'
import { deleteAccount, findAccount } from '../db/queries/accounts'
import { claimDomain, findDomain, releaseDomain, type Domain } from '../db/queries/domains'
import {
  countOtherReservations,
  deleteAccountMail,
  deleteCatchAllMail,
} from '../db/queries/ownership'
import { OWNERSHIP_DELETE_BATCH, OWNERSHIP_MAX_DELETES_PER_CALL } from '../limits'
import { releaseStorage } from './inbound/storage'

export type ClaimResult =
  { ok: true; domain: Domain } | { ok: false; status: 404 | 409; message: string }

/**
 * Gives a domain to an account. Refused while another account owns it, or while other
 * accounts hold reserved addresses there: the domain owner would otherwise see, in its domain
 * views, mail that belongs to them (one owner per domain). Those accounts release their
 * addresses first.
 */
export async function claimDomainFor(
  db: Database,
  domain: string,
  accountId: string,
): Promise<ClaimResult> {
  if (!(await findAccount(db, accountId))) {
    return { ok: false, status: 404, message: `No account ${accountId}.` }
  }
  const others = await countOtherReservations(db, domain, accountId)
  if (others > 0) {
    return {
      ok: false,
      status: 409,
      message: `${others} address${others === 1 ? ' is' : 'es are'} reserved at ${domain} by other accounts; they must be released before the domain can be given to ${accountId}.`,
    }
  }
  const claimed = await claimDomain(db, domain, accountId)
  if (!claimed) return { ok: false, status: 409, message: `${domain} belongs to another account.` }
  return { ok: true, domain: claimed }
}

/** Deletes rows in rounds of OWNERSHIP_DELETE_BATCH; false when the budget ran out first. */
async function drain(
  db: Database,
  bucket: R2Bucket,
  round: (limit: number) => Promise<{ packKey: string; attachments: string[] }[]>,
): Promise<boolean> {
  for (let done = 0; done < OWNERSHIP_MAX_DELETES_PER_CALL;) {
    const gone = await round(OWNERSHIP_DELETE_BATCH)
    await releaseStorage(db, bucket, gone)
    done += gone.length
    if (gone.length < OWNERSHIP_DELETE_BATCH) return true
  }
  return false
}

export type Removal = 'removed' | 'missing' | 'unfinished'

/**
 * Removes an owned domain. Its catch-all mail is deleted with its storage first, so nothing
 * that was private to the owner turns public. Bounded per call: 'unfinished' means call again.
 */
export async function removeDomain(
  db: Database,
  bucket: R2Bucket,
  domain: string,
): Promise<Removal> {
  if (!(await findDomain(db, domain))) return 'missing'
  if (!(await drain(db, bucket, (limit) => deleteCatchAllMail(db, domain, limit)))) {
    return 'unfinished'
  }
  return (await releaseDomain(db, domain)) ? 'removed' : 'missing'
}

/**
 * Deletes an account with all of its mail (its inboxes' and what it starred) and the mail's
 * storage; its reservations, domains, sessions and delivery records go with the account row.
 * Bounded per call: 'unfinished' means the account still exists and the call must be repeated.
 */
export async function removeAccount(
  db: Database,
  bucket: R2Bucket,
  accountId: string,
): Promise<Removal> {
  if (!(await findAccount(db, accountId))) return 'missing'
  if (!(await drain(db, bucket, (limit) => deleteAccountMail(db, accountId, limit)))) {
    return 'unfinished'
  }
  return (await deleteAccount(db, accountId)) ? 'removed' : 'missing'
}
