import { sha256Hex } from '../../lib/bytes'
import { decodedChunks } from './attachment-decode'
import type { ParsedAttachment } from './parse'
import type { Database } from '../../db/client'
import {
  deleteUnreferencedBlobs,
  findReferencedPacks,
  type MessageRow,
  type ReleasedRefs,
} from '../../db/queries/messages'
import { deleteOrphanBlobs } from '../../db/queries/retention'

// R2 layout.
//
// packs/<id>: one object per ingest call, holding for each delivery its exact raw bytes
// followed by its parsed bodies as JSON; D1 rows record the byte ranges and R2 range reads
// serve them. One write per batch instead of two per message: R2 writes are the slowest and
// the billed (Class A) operation, and the SMTP bridge batches bursts of mail. A pack is
// deleted once no row references it; since mail of one batch arrives together and is
// recycled together, little space is held by partly deleted packs.
//
// attachments/<md5>: attachment bytes, content-addressed and shared by every message that
// carries them.
//
// Parsed text/HTML live in R2 rather than D1 because bodies can be megabytes (D1 caps a value
// at 2 MB and bills by rows read), while list responses never need them.

export const packKey = (id: string) => `packs/${id}`

export const attachmentKey = (md5: string) => `attachments/${md5}`

/**
 * The parsed bodies of a message. `truncated` (absent in packs written before it existed)
 * says the text, HTML and sanitized bodies are cut to MAX_STORED_BODY_CHARS; the raw bytes
 * are always whole.
 */
export type MessageContent = { text: string; html: string; body: string; truncated?: boolean }

type PackPart = { raw: Uint8Array; content: MessageContent }
export type PackSlot = { rawOffset: number; contentOffset: number; contentLength: number }

/** A pack's bytes as the parts written one after another, never joined into one buffer. */
export type Pack = { chunks: Uint8Array[]; length: number; slots: PackSlot[] }

/**
 * Lays out arrivals in one pack: each raw message followed by its bodies as JSON. The raw
 * bytes are not copied: a 25 MiB message joined with its bodies into one buffer would hold
 * it twice more in a 128 MB isolate.
 */
export function buildPack(parts: PackPart[]): Pack {
  const encoder = new TextEncoder()
  const chunks: Uint8Array[] = []
  const slots: PackSlot[] = []
  let offset = 0
  for (const part of parts) {
    const content = encoder.encode(JSON.stringify(part.content))
    chunks.push(part.raw, content)
    slots.push({
      rawOffset: offset,
      contentOffset: offset + part.raw.byteLength,
      contentLength: content.byteLength,
    })
    offset += part.raw.byteLength + content.byteLength
  }
  return { chunks, length: offset, slots }
}

/**
 * Writes a pack to R2 as a stream of known length (R2 needs the length of a streamed body),
 * chunk by chunk.
 */
export function putPack(bucket: R2Bucket, key: string, pack: Pack) {
  return putStreamed(bucket, key, pack.length, pack.chunks)
}

/**
 * The most one write hands the stream at once. The runtime copies what it is given before it
 * goes out, so a 25 MiB raw message written whole would be held twice until R2 has it all;
 * written in views of this size it is held once, plus one slice in flight.
 */
export const WRITE_SLICE_BYTES = 256 * 1024

function* slices(chunks: Iterable<Uint8Array>): Generator<Uint8Array> {
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.byteLength; at += WRITE_SLICE_BYTES) {
      yield chunk.subarray(at, Math.min(chunk.byteLength, at + WRITE_SLICE_BYTES))
    }
  }
}

/** Writes `chunks` (`length` bytes in all) to R2 as one stream, never joined into one buffer. */
async function putStreamed(
  bucket: R2Bucket,
  key: string,
  length: number,
  chunks: Iterable<Uint8Array>,
  options?: R2PutOptions,
) {
  const { readable, writable } = new FixedLengthStream(length)
  const writer = writable.getWriter()
  const put = bucket.put(key, readable, options)
  // A failed put stops reading: abort the writes instead of leaving them waiting.
  put.catch((error: unknown) => writer.abort(error).catch(() => undefined))
  const write = (async () => {
    for (const slice of slices(chunks)) await writer.write(slice)
    await writer.close()
  })()
  write.catch(() => undefined)
  await Promise.all([put, write])
}

type Located = Pick<
  MessageRow,
  'packKey' | 'rawOffset' | 'size' | 'contentOffset' | 'contentLength'
>

/** The exact raw bytes of a message, as a stream; null if the pack is gone. */
export async function readRaw(bucket: R2Bucket, message: Located) {
  const body = await readRawRange(bucket, message, 0, message.size)
  return body ? { body, size: message.size } : null
}

/**
 * `length` raw bytes of a message from `start` (within its raw bytes), as a stream; null if
 * the pack is gone. Lets a reader take the header section without the body, or the body alone.
 */
export async function readRawRange(
  bucket: R2Bucket,
  message: Located,
  start: number,
  length: number,
): Promise<ReadableStream | null> {
  if (length <= 0) return new Response('').body as ReadableStream
  const object = await bucket.get(message.packKey, {
    range: { offset: message.rawOffset + start, length },
  })
  return object ? object.body : null
}

export async function readContent(bucket: R2Bucket, message: Located): Promise<MessageContent> {
  const object = await bucket.get(message.packKey, {
    range: { offset: message.contentOffset, length: message.contentLength },
  })
  if (!object) return { text: '', html: '', body: '', truncated: false }
  return object.json<MessageContent>()
}

/** How long an attachment blob stays after its last reference: longer than any ingest runs. */
const BLOB_GRACE_MS = 15 * 60 * 1000

/**
 * After message rows are deleted: removes the R2 objects no remaining row references.
 * Packs belong to one ingest call (shared by its deliveries' rows); attachment blobs are
 * shared across deliveries and only go once nothing points at them.
 */
export async function releaseStorage(
  db: Database,
  bucket: R2Bucket,
  released: ReleasedRefs[],
  now = new Date(),
) {
  if (released.length === 0) return
  const packs = [...new Set(released.map((ref) => ref.packKey))]
  const alive = await findReferencedPacks(db, packs)
  const doomed = packs.filter((key) => !alive.has(key))
  const md5s = [...new Set(released.flatMap((ref) => ref.attachments))]
  const gone = await deleteUnreferencedBlobs(db, md5s, new Date(now.getTime() - BLOB_GRACE_MS))
  doomed.push(...gone.map(attachmentKey))
  // R2 deletes up to 1000 keys per call.
  for (let i = 0; i < doomed.length; i += 1000) await bucket.delete(doomed.slice(i, i + 1000))
}

/**
 * Removes attachment blobs nothing references any more and no ingest touched within the grace
 * period: those whose last message went while the blob was still in its grace period, and
 * those a failed ingest left. At most `limit` per call; returns how many went.
 */
export async function sweepOrphanBlobs(
  db: Database,
  bucket: R2Bucket,
  now: Date,
  limit: number,
): Promise<number> {
  const gone = await deleteOrphanBlobs(db, new Date(now.getTime() - BLOB_GRACE_MS), limit)
  for (let i = 0; i < gone.length; i += 1000) {
    await bucket.delete(gone.slice(i, i + 1000).map(attachmentKey))
  }
  return gone.length
}

/**
 * Which of `attachments` need writing to R2, after checking the blobs already there. Blobs are
 * named by MD5 (Mailsac's attachment id) and shared by every message carrying the same bytes,
 * so a file crafted to collide with a stored one must never replace it: each blob records the
 * SHA-256 of its bytes, and an attachment whose MD5 is stored with other bytes is returned in
 * `collisions` (the caller refuses its message) instead of being written.
 */
export async function checkAttachmentBlobs(
  bucket: R2Bucket,
  attachments: { md5: string; sha256: string }[],
): Promise<{ missing: Set<string>; collisions: Set<string> }> {
  const missing = new Set<string>()
  const collisions = new Set<string>()
  const unique = new Map(attachments.map((a) => [a.md5, a.sha256]))
  await Promise.all(
    [...unique].map(async ([md5, sha256]) => {
      const stored = await bucket.head(attachmentKey(md5))
      if (!stored) return missing.add(md5)
      let storedSha = stored.customMetadata?.sha256
      if (!storedSha) {
        // Blobs from before the check carry no digest: hash them once.
        const body = await bucket.get(attachmentKey(md5))
        storedSha = body ? await sha256Hex(new Uint8Array(await body.arrayBuffer())) : sha256
      }
      if (storedSha !== sha256) collisions.add(md5)
    }),
  )
  return { missing, collisions }
}

/**
 * Writes an attachment blob with the digest `checkAttachmentBlobs` compares. A part too large
 * for the parser is decoded from the raw message again while it is written, never whole.
 */
export async function putAttachmentBlob(
  bucket: R2Bucket,
  blob: Pick<ParsedAttachment, 'md5' | 'sha256' | 'size' | 'bytes' | 'encoded' | 'contentType'>,
) {
  const options = {
    httpMetadata: { contentType: blob.contentType },
    customMetadata: { sha256: blob.sha256 },
  }
  const key = attachmentKey(blob.md5)
  if (blob.bytes) return void (await bucket.put(key, blob.bytes, options))
  if (!blob.encoded) throw new Error(`attachment ${blob.md5} has neither bytes nor a source`)
  await putStreamed(bucket, key, blob.size, decodedChunks(blob.encoded), options)
}
