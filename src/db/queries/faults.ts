import { eq } from 'drizzle-orm'
import type { Database } from '../client'
import { faultRules } from '../schema'

/** The one row of `fault_rules`: runtime rules replace the SMTP_FAULTS var while it exists. */
const RUNTIME_RULES_ID = 1

/** The runtime rules' JSON as `PUT /internal/faults` stored it, or null while none are set. */
export async function readRuntimeFaults(db: Database): Promise<string | null> {
  const [row] = await db
    .select({ rules: faultRules.rules })
    .from(faultRules)
    .where(eq(faultRules.id, RUNTIME_RULES_ID))
  return row?.rules ?? null
}

export async function saveRuntimeFaults(db: Database, rulesJson: string, now: Date) {
  await db
    .insert(faultRules)
    .values({ id: RUNTIME_RULES_ID, rules: rulesJson, updated: now })
    .onConflictDoUpdate({ target: faultRules.id, set: { rules: rulesJson, updated: now } })
}

export async function clearRuntimeFaults(db: Database) {
  await db.delete(faultRules).where(eq(faultRules.id, RUNTIME_RULES_ID))
}
