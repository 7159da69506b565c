import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'

/**
 * `column in values`, the values bound as one JSON parameter: one statement however many there
 * are (D1 binds at most 100 parameters), so a bridge batch's lookups need no chunking and stay
 * one statement per kind. SQLite still answers it from the column's index.
 */
export function inJsonList(column: SQLWrapper, values: readonly string[]): SQL {
  return sql`${column} in (select value from json_each(${JSON.stringify(values)}))`
}
