import { and, eq, gt } from 'drizzle-orm'
import { sha256Hex } from '../../lib/bytes'
import { randomString } from '../../lib/random'
import type { Database } from '../client'
import { accounts, sessions } from '../schema'

/** How long a web session lasts. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000

async function sessionId(token: string): Promise<string> {
  return sha256Hex(token)
}

/** Opens a session; the token goes in the cookie, only its hash is stored. */
export async function createSession(db: Database, accountId: string, now = new Date()) {
  const token = randomString(48)
  const csrfToken = randomString(32)
  await db.insert(sessions).values({
    id: await sessionId(token),
    account: accountId,
    csrfToken,
    created: now,
    expires: new Date(now.getTime() + SESSION_TTL_MS),
  })
  return { token, csrfToken }
}

/** The live session a cookie token names, with its account; null if unknown or expired. */
export async function findSession(db: Database, token: string, now = new Date()) {
  const [row] = await db
    .select({ session: sessions, account: accounts })
    .from(sessions)
    .innerJoin(accounts, eq(accounts.id, sessions.account))
    .where(and(eq(sessions.id, await sessionId(token)), gt(sessions.expires, now)))
    .limit(1)
  return row ?? null
}

export async function deleteSession(db: Database, token: string) {
  await db.delete(sessions).where(eq(sessions.id, await sessionId(token)))
}
