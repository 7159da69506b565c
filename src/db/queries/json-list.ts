import { sql, type SQL, type SQLWrapper } from 'drizzle-orm'

/**
 * `column in values`, the values bound as one JSON parameter: one statement however many there
 * are (D1 binds at most 100 parameters), and far less to build than an IN list of binds (the
 * ownership and fanout reads of every ingest cost ~2 ms of CPU each that way, bench/ingest-profile.mjs).
 * SQLite still answers it from the column's index.
 */
export function inJsonList(column: SQLWrapper, values: readonly string[]): SQL {
  return sql`${column} in (select value from json_each(${JSON.stringify(values)}))`
}
