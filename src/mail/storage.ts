import type { Database } from '../db/client'
import {
  deleteUnreferencedBlobs,
  findReferencedRawKeys,
  type ReleasedRefs,
} from '../db/queries/messages'

// R2 layout. Raw bytes and parsed bodies are written once per delivery and shared by the
// rows of its recipients; attachments are content-addressed by MD5 and shared by every
// message that carries the same bytes.

/** The exact bytes received, served by /api/raw and POP3 RETR. */
export const rawKey = (deliveryId: string) => `raw/${deliveryId}.eml`

/**
 * Parsed text, full HTML and sanitized HTML as one JSON object. They live in R2 rather than
 * D1 because bodies can be megabytes (D1 caps a value at 2 MB and bills by rows read), while
 * list responses never need them: only the single-message and body routes read this object.
 */
export const contentKey = (deliveryId: string) => `content/${deliveryId}.json`

export const attachmentKey = (md5: string) => `attachments/${md5}`

export type MessageContent = { text: string; html: string; body: string }

export async function readContent(bucket: R2Bucket, key: string): Promise<MessageContent> {
  const object = await bucket.get(key)
  if (!object) return { text: '', html: '', body: '' }
  return object.json<MessageContent>()
}

/** How long an attachment blob stays after its last reference: longer than any ingest runs. */
const BLOB_GRACE_MS = 15 * 60 * 1000

/**
 * After message rows are deleted: removes the R2 objects no remaining row references.
 * Raw and content objects belong to one delivery (shared by its recipients' rows);
 * attachment blobs are shared across deliveries and only go once nothing points at them.
 */
export async function releaseStorage(
  db: Database,
  bucket: R2Bucket,
  released: ReleasedRefs[],
  now = new Date(),
) {
  if (released.length === 0) return
  const contentOf = new Map(released.map((ref) => [ref.rawKey, ref.contentKey]))
  const alive = await findReferencedRawKeys(db, [...contentOf.keys()])
  const doomed = [...contentOf].filter(([raw]) => !alive.has(raw)).flat()
  const md5s = [...new Set(released.flatMap((ref) => ref.attachments))]
  const gone = await deleteUnreferencedBlobs(db, md5s, new Date(now.getTime() - BLOB_GRACE_MS))
  doomed.push(...gone.map(attachmentKey))
  // R2 deletes up to 1000 keys per call.
  for (let i = 0; i < doomed.length; i += 1000) await bucket.delete(doomed.slice(i, i + 1000))
}
