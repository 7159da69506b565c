import { z } from 'zod'
import type { Database } from '../db/client'
import { readRuntimeFaults } from '../db/queries/faults'
import { FAULT_RULES_TTL_MS } from '../limits'

/**
 * Fault injection for senders (#17.6, like Mailpit's chaos and MailHog's Jim): an operator
 * setting, off by default, that makes the SMTP ingest answer chosen 4xx/5xx codes at MAIL, RCPT
 * or DATA with a probability, so people can test their application's retry handling.
 *
 * The default rules live in the `SMTP_FAULTS` var (JSON); `PUT /internal/faults` replaces them
 * at runtime with rules kept in D1 (`fault_rules`), until `DELETE` restores the var's. The
 * bridge reads the active ones from
 * `GET /internal/faults` and applies them in its smtp-server hooks; the Worker's own `email()`
 * path applies them too. A faulted message is never stored.
 */

export const FAULT_STAGES = ['mail', 'rcpt', 'data'] as const
export type FaultStage = (typeof FAULT_STAGES)[number]

/** One rule: at `stage`, answer `code` with `probability`, for one domain or every message. */
export const FaultRule = z
  .object({
    stage: z.enum(FAULT_STAGES),
    // RFC 5321 4.2.1: 4yz is a transient failure, 5yz a permanent one; 421 closes the session.
    code: z.number().int().min(400).max(599),
    probability: z.number().min(0).max(1),
    // At RCPT and DATA a recipient's domain; at MAIL (no recipient yet) the sender's domain.
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^[a-z0-9.-]+$/, 'a bare domain, such as x.example')
      .optional(),
    message: z
      .string()
      .max(200)
      .regex(/^[\x20-\x7e]*$/, 'printable ASCII on one line (RFC 5321 4.2)')
      .optional(),
  })
  .strict()
export type FaultRule = z.infer<typeof FaultRule>

/** Every rule a deployment applies; more would be a configuration mistake, not a test. */
export const FaultRules = z.array(FaultRule).max(50)

/** The text a faulted reply carries when the rule names none. */
export function faultText(rule: FaultRule): string {
  return rule.message ?? `Fault injected by the operator (${rule.stage} ${rule.code})`
}

export type FaultSetting =
  { on: true; rules: FaultRule[] } | { on: false; rules: null; error: string | null }

let cached: { source: string; setting: FaultSetting } | undefined

/**
 * The rules of `SMTP_FAULTS`. Empty or unset is off; an invalid value is off too, logged once
 * per isolate with zod's reason, so a typo can never make the ingest refuse mail by surprise.
 */
export function faultSetting(env: { SMTP_FAULTS?: string }): FaultSetting {
  const source = (env.SMTP_FAULTS ?? '').trim()
  if (cached?.source === source) return cached.setting
  const setting = parseFaults(source)
  if (!setting.on && setting.error) console.error(`SMTP_FAULTS ignored: ${setting.error}`)
  cached = { source, setting }
  return setting
}

/** Parses the var's text; exported for tests. */
export function parseFaults(source: string): FaultSetting {
  if (source === '' || source === '[]') return { on: false, rules: null, error: null }
  let json: unknown
  try {
    json = JSON.parse(source)
  } catch (error) {
    return { on: false, rules: null, error: `not JSON (${(error as Error).message})` }
  }
  const parsed = FaultRules.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return {
      on: false,
      rules: null,
      error: `${issue.path.join('.') || 'value'}: ${issue.message}`,
    }
  }
  return parsed.data.length
    ? { on: true, rules: parsed.data }
    : { on: false, rules: null, error: null }
}

/**
 * The rule that fires for this stage, if any: rules are tried in order, a rule with a domain
 * only for that domain (or its subdomains), each with its own throw of the dice.
 */
export function pickFault(
  rules: readonly FaultRule[],
  stage: FaultStage,
  domains: readonly string[],
  random: () => number = Math.random,
): FaultRule | null {
  const lower = domains.map((domain) => domain.toLowerCase())
  for (const rule of rules) {
    if (rule.stage !== stage) continue
    if (rule.domain && !lower.some((domain) => inDomain(domain, rule.domain as string))) continue
    if (rule.probability > 0 && random() < rule.probability) return rule
  }
  return null
}

function inDomain(domain: string, ruleDomain: string): boolean {
  return domain === ruleDomain || domain.endsWith(`.${ruleDomain}`)
}

/** The domain of an address, lower-cased ('' without one). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase()
}

/** Where the active rules come from: `PUT /internal/faults`, else the var. */
export type FaultSource = 'runtime' | 'SMTP_FAULTS'

/**
 * The rules in force: the runtime ones while set (they were validated on the way in, and are
 * parsed again so a row written by an older version cannot turn into a surprise), else the
 * SMTP_FAULTS var's. One D1 read.
 */
export async function activeFaults(
  db: Database,
  env: { SMTP_FAULTS?: string },
): Promise<FaultSetting & { source: FaultSource }> {
  const runtime = await readRuntimeFaults(db)
  if (runtime === null) return { ...faultSetting(env), source: 'SMTP_FAULTS' }
  const setting = parseFaults(runtime)
  if (!setting.on && setting.error) console.error(`runtime fault rules ignored: ${setting.error}`)
  return { ...setting, source: 'runtime' }
}

let routingCache: { at: number; source?: string; setting: FaultSetting } | undefined

/** Forgets this isolate's copy for email(), after a PUT or DELETE (others catch up in the TTL). */
export function forgetCachedFaults() {
  routingCache = undefined
}

async function routingFaults(db: Database, env: { SMTP_FAULTS?: string }, now: number) {
  const source = env.SMTP_FAULTS
  if (
    !routingCache ||
    routingCache.source !== source ||
    now - routingCache.at >= FAULT_RULES_TTL_MS
  ) {
    routingCache = { at: now, source, setting: await activeFaults(db, env) }
  }
  return routingCache.setting
}

/**
 * Email Routing's path (#17.6): the whole transaction arrives at once, so MAIL, RCPT and DATA
 * rules are tried in that order. A 5xx is `setReject`; a 4xx is thrown, which Email Routing
 * answers with a temporary failure (it does not let a Worker choose the exact code). Returns
 * whether the message was rejected.
 */
export async function emailRoutingFault(
  message: Pick<ForwardableEmailMessage, 'from' | 'to' | 'setReject'>,
  db: Database,
  env: { SMTP_FAULTS?: string },
): Promise<boolean> {
  const setting = await routingFaults(db, env, Date.now())
  if (!setting.on) return false
  const rule =
    pickFault(setting.rules, 'mail', [domainOf(message.from)]) ??
    pickFault(setting.rules, 'rcpt', [domainOf(message.to)]) ??
    pickFault(setting.rules, 'data', [domainOf(message.to)])
  if (!rule) return false
  if (rule.code < 500) throw new Error(`${rule.code} ${faultText(rule)}`)
  message.setReject(`${rule.code} ${faultText(rule)}`)
  return true
}
