import { Context } from 'hono'
import z from 'zod'
import { Database } from '../../db/client'
import { Account, adjustPrivateAddressCredits } from '../../db/queries/accounts'
import {
  PrivateAddress,
  findPrivateAddress,
  insertPrivateAddress,
  updateAddressSettings,
} from '../../db/queries/addresses'
import { AppEnv } from '../../env'
import { fail } from '../../http/errors'
import { receivesFor } from '../../mail/accepted-domains'
import { newWebhookSecret } from '../../mail/fanout/webhook-signature'
import { findInboxOwner } from '../../mail/privacy'
import { addressSettingsSchema } from './schema'

// Reserving an address and validating its settings: shared by the single and bulk routes.
export type Reservation =
  { ok: true; address: PrivateAddress } | { ok: false; status: 400 | 401 | 409; message: string }

/** Why the account may not reserve the address, or null when it may. */
/** Mail for such an address is refused at the door: a reservation there could never receive. */
export function outsideService(env: Env, email: string): Exclude<Reservation, { ok: true }> | null {
  if (receivesFor(email, env.ACCEPTED_DOMAINS)) return null
  return { ok: false, status: 400, message: `This service does not receive mail for ${email}.` }
}

export async function reservationRefusal(
  db: Database,
  account: Account,
  email: string,
): Promise<Exclude<Reservation, { ok: true }> | null> {
  const owner = await findInboxOwner(db, email)
  const reserved = await findPrivateAddress(db, email)
  if (reserved?.owner === account.id)
    return { ok: false, status: 400, message: 'You already own this address.' }
  if (owner && owner !== account.id) {
    return { ok: false, status: 401, message: 'This address is owned by another account.' }
  }
  return null
}

export const NO_CREDITS = 'No private address credits left: release an address or add credits.'

/**
 * Reserves one address whose credit is already spent; on a lost race the credit goes back
 * and the answer says who won.
 */
export async function reservePaid(
  db: Database,
  account: Account,
  email: string,
): Promise<Reservation> {
  const address = await insertPrivateAddress(db, email, account.id)
  if (address) return { ok: true, address }
  await adjustPrivateAddressCredits(db, account.id, 1)
  return (
    (await reservationRefusal(db, account, email)) ?? {
      ok: false,
      status: 409,
      message: 'Reserved concurrently; try again.',
    }
  )
}

/** Reserves one address for an account, spending a credit (given back if it fails). */
export async function reserveAddress(
  db: Database,
  account: Account,
  email: string,
): Promise<Reservation> {
  const refused = await reservationRefusal(db, account, email)
  if (refused) return refused
  if (!(await adjustPrivateAddressCredits(db, account.id, -1))) {
    return { ok: false, status: 400, message: NO_CREDITS }
  }
  return reservePaid(db, account, email)
}

export type AddressSettings = Omit<
  z.output<ReturnType<typeof addressSettingsSchema>>,
  '_mailsacKey'
>

export function jsonBody(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return fail(400, 'Expected a JSON body.')
  }
}

/** The settings body of PUT (and POST) /api/addresses/:email, validated. */
export function parseSettings(c: Context<AppEnv>, body: unknown): AddressSettings {
  const parsed = addressSettingsSchema(c.env.ALLOW_LOCAL_WEBHOOKS === 'true').safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    fail(400, `Invalid ${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
  const { _mailsacKey: _, ...settings } = parsed.data
  return settings
}

export async function saveSettings(
  db: Database,
  address: PrivateAddress,
  settings: AddressSettings,
) {
  // The signing key is made with the first webhook, so the owner can read it right away.
  const webhookSecret =
    settings.webhook && !address.webhookSecret ? { webhookSecret: newWebhookSecret() } : {}
  return updateAddressSettings(db, address.email, { ...settings, ...webhookSecret })
}
