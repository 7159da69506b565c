import { faultReply } from './replies.js'

/**
 * Fault injection for senders (#17.6): the operator's SMTP_FAULTS rules, which the Worker holds
 * and validates, answered here at MAIL, RCPT or DATA with their chosen code and probability.
 * Off by default (the Worker answers `rules: null`). A faulted message is never uploaded.
 *
 * @typedef {'mail' | 'rcpt' | 'data'} FaultStage
 * @typedef {{ stage: FaultStage, code: number, probability: number, domain?: string, message?: string }} FaultRule
 */

/** How long the rules are reused before asking the Worker again: a change shows within seconds. */
export const FAULT_RULES_TTL_MS = 5_000

/** The rules request is small; a Worker slower than this leaves the last rules in place. */
const FAULT_RULES_TIMEOUT_MS = 2_000

/**
 * The rule that fires for this stage, if any; the same rule as src/mail/faults.ts's pickFault:
 * in order, a rule with a domain only for that domain or its subdomains.
 * @param {readonly FaultRule[]} rules
 * @param {FaultStage} stage
 * @param {readonly string[]} domains at MAIL the sender's, at RCPT the recipient's, at DATA every recipient's
 * @param {() => number} [random]
 * @returns {FaultRule | null}
 */
export function pickFault(rules, stage, domains, random = Math.random) {
  const lower = domains.map((domain) => domain.toLowerCase())
  for (const rule of rules) {
    if (rule.stage !== stage) continue
    const ruleDomain = rule.domain
    if (ruleDomain && !lower.some((d) => d === ruleDomain || d.endsWith(`.${ruleDomain}`))) continue
    if (rule.probability > 0 && random() < rule.probability) return rule
  }
  return null
}

/** @param {string} address */
export function domainOf(address) {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase()
}

/**
 * The rules from `GET /internal/faults`, cached for FAULT_RULES_TTL_MS. Fault injection must
 * never break real ingest: when the Worker cannot be asked, the last rules known (none at first)
 * stay in force and the failure is logged.
 *
 * @param {{ apiUrl: string, ingestToken: string }} config
 * @param {import('../log.js').Logger} log
 */
export function createFaults(config, log) {
  /** @type {FaultRule[]} */
  let rules = []
  let fetchedAt = -Infinity
  /** @type {Promise<void> | null} */
  let pending = null

  async function refresh() {
    try {
      const response = await fetch(`${config.apiUrl}/internal/faults`, {
        headers: { authorization: `Bearer ${config.ingestToken}` },
        signal: AbortSignal.timeout(FAULT_RULES_TIMEOUT_MS),
      })
      if (!response.ok) throw new Error(`Worker answered ${response.status}`)
      const body = /** @type {{ rules: FaultRule[] | null }} */ (await response.json())
      const next = body.rules ?? []
      if (JSON.stringify(next) !== JSON.stringify(rules)) {
        log.info('smtp fault rules', { rules: next })
      }
      rules = next
    } catch (err) {
      log.warn('smtp fault rules unavailable', { reason: String(err) })
    } finally {
      fetchedAt = Date.now()
      pending = null
    }
  }

  /** @returns {Promise<FaultRule[]>} */
  async function current() {
    if (Date.now() - fetchedAt >= FAULT_RULES_TTL_MS) await (pending ??= refresh())
    return rules
  }

  /**
   * The SMTP error to answer at this stage, or null to carry on.
   * @param {FaultStage} stage
   * @param {string[]} domains
   */
  async function check(stage, domains) {
    const rule = pickFault(await current(), stage, domains)
    if (!rule) return null
    log.info('smtp fault injected', { stage, code: rule.code, domains })
    return faultReply(
      rule.code,
      rule.message ?? `Fault injected by the operator (${stage} ${rule.code})`,
    )
  }

  return {
    check,
    /**
     * smtp-server's MAIL and RCPT hooks.
     * @type {Pick<import('smtp-server').SMTPServerOptions, 'onMailFrom' | 'onRcptTo'>}
     */
    hooks: {
      onMailFrom(address, _session, callback) {
        check('mail', [domainOf(address.address)]).then((error) => callback(error ?? undefined))
      },
      onRcptTo(address, _session, callback) {
        check('rcpt', [domainOf(address.address)]).then((error) => callback(error ?? undefined))
      },
    },
  }
}

/** @typedef {ReturnType<typeof createFaults>} Faults */
