import { eq, getTableColumns, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { chunks } from '../../lib/chunks'
import { D1_MAX_STATEMENTS_PER_BATCH } from '../../limits'
import type { Database } from '../client'
import { byBoundParams } from '../params'
import {
  arrivalKeys,
  attachmentBlobs,
  messageAttachments,
  messageHeaders,
  messages,
  type HeaderList,
} from '../schema'
import { insertArrivalKeys } from './arrival-keys'
import type { MessageAttachmentRow, NewMessageRow } from './messages'

// The ingest's writes: message rows with their headers, keys and attachment rows.

/**
 * Stores arrivals: every recipient row and its attachment rows. Each arrival is stored in one
 * D1 transaction with its idempotency key; arrivals go in batches of at most
 * D1_MAX_STATEMENTS_PER_BATCH statements, and `progress.committed` counts the arrivals whose
 * batch committed (a later batch may still fail: their retry finds them by key). `reads` go
 * at the end of the last batch when they fit (else in one of their own), so what the caller
 * reads after the write costs no round trip of its own; their results are returned.
 */
export async function insertMessages(
  db: Database,
  arrivals: {
    key: string | null
    maybeStored: boolean
    rows: NewMessageRow[]
    headers: HeaderList
    attachments: Omit<MessageAttachmentRow, 'messageId'>[]
  }[],
  now: Date,
  progress: { committed: number } = { committed: 0 },
  reads: BatchItem<'sqlite'>[] = [],
): Promise<unknown[][]> {
  // Each arrival's idempotency key goes in the same transaction as its rows: a key exists
  // exactly when its mail was stored, and a retry racing its first attempt fails on the key
  // instead of storing a second copy. Arrivals are grouped into transactions as before (each
  // group within D1_MAX_STATEMENTS_PER_BATCH however it is written), then each group's rows go
  // as multi-row INSERTs, as many rows per statement as D1's 100 bound parameters allow: the
  // statements, not the rows, cost drizzle's build and D1's per-statement work (#18). The
  // attachment rows of an arrival's first recipient row are copied to the others by one
  // insert-select each.
  const groups: (typeof arrivals)[] = []
  let group: typeof arrivals = []
  let statementsInGroup = 0
  for (const arrival of arrivals) {
    const bound = statementBound(arrival)
    if (group.length > 0 && statementsInGroup + bound > D1_MAX_STATEMENTS_PER_BATCH) {
      groups.push(group)
      group = []
      statementsInGroup = 0
    }
    group.push(arrival)
    statementsInGroup += bound
  }
  if (group.length > 0) groups.push(group)
  const readsAlone = statementsInGroup + reads.length > D1_MAX_STATEMENTS_PER_BATCH
  let last: unknown[][] = []
  for (const [i, part] of groups.entries()) {
    const statements = groupStatements(db, part, now)
    const withReads = i === groups.length - 1 && !readsAlone
    const [head, ...rest] = withReads ? [...statements, ...reads] : statements
    last = (await db.batch([head, ...rest])) as unknown[][]
    progress.committed += part.length
  }
  if ((readsAlone || groups.length === 0) && reads.length > 0) {
    const [head, ...rest] = reads
    last = (await db.batch([head, ...rest])) as unknown[][]
  }
  return last.slice(last.length - reads.length)
}

type ArrivalWrite = Parameters<typeof insertMessages>[1][number]

/** The most statements an arrival can take (one per row as if nothing were merged). */
const statementBound = ({ key, rows, attachments }: ArrivalWrite) =>
  1 + (key === null ? 0 : 1) + rows.length + attachments.length + (rows.length - 1)

// Parameters each row binds: every column (drizzle binds defaults as parameters too).
const MESSAGE_ROW_PARAMS = Object.keys(getTableColumns(messages)).length
const HEADER_ROW_PARAMS = Object.keys(getTableColumns(messageHeaders)).length
const KEY_ROW_PARAMS = Object.keys(getTableColumns(arrivalKeys)).length
const ATTACHMENT_ROW_PARAMS = Object.keys(getTableColumns(messageAttachments)).length

/** One transaction's statements: multi-row INSERTs of the group's headers, keys and rows. */
function groupStatements(db: Database, group: ArrivalWrite[], now: Date): BatchItem<'sqlite'>[] {
  const headers = group.map(({ rows: [first], headers }) => ({
    packKey: first.packKey,
    rawOffset: first.rawOffset,
    headers,
  }))
  const keyed = group.flatMap(({ key, maybeStored, rows }) =>
    key === null
      ? []
      : [
          {
            strict: maybeStored,
            key: { key, messages: rows.map((row) => ({ _id: row.id, inbox: row.inbox })) },
          },
        ],
  )
  const rows = group.flatMap((arrival) => arrival.rows)
  const attachmentRows = group.flatMap(({ rows: [first], attachments }) =>
    attachments.map((attachment) => ({ ...attachment, messageId: first.id as string })),
  )
  return [
    ...byBoundParams(headers, HEADER_ROW_PARAMS).map((part) =>
      db.insert(messageHeaders).values(part),
    ),
    ...[true, false].flatMap((strict) =>
      byBoundParams(
        keyed.filter((entry) => entry.strict === strict).map((entry) => entry.key),
        KEY_ROW_PARAMS,
        strict ? 0 : 1,
      ).map((part) => insertArrivalKeys(db, part, now, strict)),
    ),
    ...byBoundParams(rows, MESSAGE_ROW_PARAMS).map((part) => db.insert(messages).values(part)),
    ...byBoundParams(attachmentRows, ATTACHMENT_ROW_PARAMS).map((part) =>
      db.insert(messageAttachments).values(part),
    ),
    ...group.flatMap(({ rows: [first, ...others], attachments }) =>
      attachments.length === 0
        ? []
        : others.map((row) => copyAttachmentRows(db, first.id as string, row.id as string)),
    ),
  ]
}

/** Copies the attachment rows of message row `from` to message row `to` (one statement). */
function copyAttachmentRows(db: Database, from: string, to: string) {
  const a = messageAttachments
  return db.insert(messageAttachments).select(
    db
      .select({
        messageId: sql<string>`${to}`.as('message_id'),
        position: a.position,
        md5: a.md5,
        filename: a.filename,
        contentType: a.contentType,
        contentDisposition: a.contentDisposition,
        contentId: a.contentId,
        transferEncoding: a.transferEncoding,
        size: a.size,
      })
      .from(a)
      .where(eq(a.messageId, from)),
  )
}

/** Marks attachment blobs as in use now (see `attachmentBlobs.touched`); idempotent. */
export async function touchAttachmentBlobs(
  db: Database,
  blobs: { md5: string; size: number }[],
  now: Date,
) {
  for (const slice of chunks(blobs, D1_MAX_STATEMENTS_PER_BATCH)) {
    const [first, ...rest] = slice.map((blob) =>
      db
        .insert(attachmentBlobs)
        .values({ md5: blob.md5, size: blob.size, touched: now })
        .onConflictDoUpdate({ target: attachmentBlobs.md5, set: { touched: now } }),
    )
    await db.batch([first, ...rest])
  }
}
