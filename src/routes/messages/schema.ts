import { z } from 'zod'
import { EXAMPLE_ID, EXAMPLE_INBOX, EXAMPLE_MD5, listOf } from '../../http/openapi/common'

// The request and response bodies of /api/addresses/:email/messages... (the message object
// itself is in src/mail/message-json.ts).

/** `?messageHeadersFormat=` of GET .../messages/:messageId/headers. */
export const headersQuery = z.object({
  messageHeadersFormat: z.enum(['json', 'json-ordered', 'plain']).default('json'),
  download: z.string().optional(),
})

/** `?q=` of an inbox's list: the search syntax of src/lib/search-query.ts. */
export const searchParam = z.string().max(2000)

export const labelParam = z.string().min(1).max(100)

export const folderParam = z.enum(['inbox', 'all', 'spam', 'trash'])

export const MessageCount = z
  .object({ count: z.number().int(), inbox: z.string() })
  .meta({ id: 'MessageCount', example: { count: 3, inbox: EXAMPLE_INBOX } })

export const MessageDeleted = z
  .object({ _id: z.string(), inbox: z.string(), message: z.string() })
  .meta({
    id: 'MessageDeleted',
    example: { _id: EXAMPLE_ID, inbox: EXAMPLE_INBOX, message: 'Message was deleted.' },
  })

export const MessageLabels = z
  .object({ _id: z.string(), labels: z.array(z.string()) })
  .meta({ id: 'MessageLabels', example: { _id: EXAMPLE_ID, labels: ['work'] } })

export const MessageFolder = z
  .object({ _id: z.string(), folder: z.enum(['inbox', 'all', 'spam', 'trash']) })
  .meta({ id: 'MessageFolder', example: { _id: EXAMPLE_ID, folder: 'spam' } })

export const MessageRead = z
  .object({
    _id: z.string(),
    read: z.boolean(),
    folder: z.boolean().meta({
      description: "The new read state again, under the name Mailsac's OpenAPI document gives it",
    }),
  })
  .meta({ id: 'MessageRead', example: { _id: EXAMPLE_ID, read: true, folder: true } })

export const GroupedHeaders = z.record(z.string(), z.array(z.string())).meta({
  id: 'GroupedHeaders',
  description: 'Headers by lower-cased name, every value in an array (messageHeadersFormat=json).',
  example: { from: ['Sender <sender@example.org>'], received: ['a', 'b'] },
})

export const OrderedHeaders = z.array(z.object({ name: z.string(), value: z.string() })).meta({
  id: 'OrderedHeaders',
  description: 'Headers in message order (messageHeadersFormat=json-ordered).',
  example: [
    { name: 'received', value: 'a' },
    { name: 'from', value: 'Sender <sender@example.org>' },
  ],
})

export const AttachmentMeta = z
  .object({
    checksum: z.string().meta({ description: 'MD5 of the attachment' }),
    contentDisposition: z.string().nullable(),
    contentId: z.string().nullable(),
    contentType: z.string(),
    fileName: z.string().nullable(),
    length: z.number().int().meta({ description: 'Bytes' }),
    transferEncoding: z.string().optional().meta({
      description:
        'Content-Transfer-Encoding of the part as sent, lower-case (7bit when absent, RFC 2045); omitted for mail stored before it was recorded',
    }),
  })
  .meta({
    id: 'AttachmentMeta',
    example: {
      checksum: EXAMPLE_MD5,
      contentDisposition: 'attachment',
      contentId: null,
      contentType: 'application/pdf',
      fileName: 'diary.pdf',
      length: 42532,
      transferEncoding: 'base64',
    },
  })

export const AttachmentList = listOf(AttachmentMeta, 'AttachmentList')
