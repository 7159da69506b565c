import type { Database } from '../db/client'
import {
  findMessageAttachments,
  type MessageAttachmentRow,
  type MessageRow,
} from '../db/queries/messages'
import { toBase64 } from '../lib/bytes'
import { sanitizeHtml } from './inbound/sanitize'
import { attachmentKey, readContent } from './inbound/storage'

/** Inline images above this size are left as cid: references rather than bloat the page. */
const MAX_INLINE_IMAGE_BYTES = 5 * 1024 * 1024

const bareCid = (value: string) => value.replace(/^<|>$/g, '').trim().toLowerCase()

/**
 * The "dirty" HTML of /api/dirty: the message's own HTML with every `cid:` image that the
 * message carries replaced by a data: URI, so it renders stand-alone. Nothing is stripped.
 */
export async function inlineCidImages(
  html: string,
  attachments: MessageAttachmentRow[],
  bucket: R2Bucket,
): Promise<string> {
  const byCid = new Map(
    attachments
      .filter((a) => a.contentId && a.size <= MAX_INLINE_IMAGE_BYTES)
      .map((a) => [bareCid(a.contentId as string), a]),
  )
  if (byCid.size === 0 || !/cid:/i.test(html)) return html
  const dataUris = new Map<string, string>()
  return new HTMLRewriter()
    .on('[src]', {
      async element(element) {
        const src = element.getAttribute('src') ?? ''
        if (!/^cid:/i.test(src)) return
        const cid = bareCid(decodeURIComponent(src.slice(4)))
        const attachment = byCid.get(cid)
        if (!attachment) return
        if (!dataUris.has(cid)) {
          const object = await bucket.get(attachmentKey(attachment.md5))
          if (!object) return
          const data = toBase64(new Uint8Array(await object.arrayBuffer()))
          dataUris.set(cid, `data:${attachment.contentType};base64,${data}`)
        }
        element.setAttribute('src', dataUris.get(cid) as string)
      },
    })
    .transform(new Response(html))
    .text()
}

/**
 * A message's HTML, standing alone (inline images as data: URIs): `dirty` as sent (/api/dirty)
 * or `display`, sanitized for the web page's HTML tab.
 */
export async function standaloneHtml(
  db: Database,
  bucket: R2Bucket,
  message: MessageRow,
  form: 'dirty' | 'display',
): Promise<string> {
  const [content, attachments] = await Promise.all([
    readContent(bucket, message),
    findMessageAttachments(db, message.id),
  ])
  const html = form === 'dirty' ? content.html : await sanitizeHtml(content.html, 'display')
  return inlineCidImages(html, attachments, bucket)
}
