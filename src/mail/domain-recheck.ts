import { database } from '../db/client'
import { findDomainsDueForCheck } from '../db/queries/domains'
import { mapConcurrently } from '../lib/concurrency'
import {
  DOMAIN_RECHECK_CONCURRENCY,
  DOMAIN_RECHECK_INTERVAL_HOURS,
  DOMAIN_RECHECK_MAX_PER_RUN,
} from '../limits'
import type { Database } from '../db/client'
import { domainCheckerFor, verifyDomain, type DomainChecker } from './domain-verification'

/**
 * The Cron Trigger of the re-check (wrangler.toml [triggers]). Its own trigger, not the 5-minute
 * retention one: each scheduled event is its own invocation, so the lookups here never share a
 * subrequest budget with retention's D1 and R2 calls. Minute 17 never meets a retention run.
 */
export const DOMAIN_RECHECK_CRON = '17 * * * *'

export type RecheckReport = {
  checked: { domain: string; verified: boolean; verifiedMx: boolean }[]
  /** More domains were due than one run checks: the next run goes on. */
  backlog: boolean
}

/**
 * Checks the DNS of the domains that are due (never checked, or last checked more than
 * DOMAIN_RECHECK_INTERVAL_HOURS ago), at most DOMAIN_RECHECK_MAX_PER_RUN, and records each result
 * as the verify routes do.
 */
export async function recheckDueDomains(
  db: Database,
  checker: DomainChecker,
  now = new Date(),
): Promise<RecheckReport> {
  const checkedBefore = new Date(now.getTime() - DOMAIN_RECHECK_INTERVAL_HOURS * 3_600_000)
  const due = await findDomainsDueForCheck(db, checkedBefore, DOMAIN_RECHECK_MAX_PER_RUN)
  const checked = await mapConcurrently(due, DOMAIN_RECHECK_CONCURRENCY, async (row) => {
    const { domain } = await verifyDomain(db, checker, row, now)
    return { domain: domain.domain, verified: domain.verified, verifiedMx: domain.verifiedMx }
  })
  return { checked, backlog: due.length === DOMAIN_RECHECK_MAX_PER_RUN }
}

/** The `scheduled()` handler for DOMAIN_RECHECK_CRON; logged for `wrangler tail`. */
export async function scheduledDomainRecheck(
  controller: ScheduledController,
  env: Pick<Env, 'DB' | 'DOH_ENDPOINT' | 'ACCEPTED_MX_HOSTS'>,
) {
  const now = new Date(controller.scheduledTime)
  const report = await recheckDueDomains(database(env.DB), domainCheckerFor(env), now)
  console.log(`domain re-check ${controller.cron}: ${JSON.stringify(report)}`)
}
