import { sql } from 'drizzle-orm'
import type { Database } from '../client'

/**
 * The migrations recorded as applied in D1's own bookkeeping table (`d1_migrations`, written
 * by `wrangler d1 migrations apply` and by the tests' applyD1Migrations); [] before any.
 */
export async function appliedMigrations(db: Database): Promise<string[]> {
  try {
    const rows = await db.all<{ name: string }>(sql`SELECT name FROM d1_migrations ORDER BY id`)
    return rows.map((row) => row.name)
  } catch (error) {
    if (error instanceof Error && /no such table/.test(error.message + String(error.cause))) {
      return []
    }
    throw error
  }
}
