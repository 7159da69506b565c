import { Hono } from 'hono'
import { z } from 'zod'
import { accountOnly, requireAccount } from '../../http/auth'
import { database } from '../../db/client'
import {
  countInboxMessages,
  deleteMessage,
  deleteUnstarredInboxMessages,
  findMessageAttachments,
  listInboxMessages,
  listStarredMessages,
  updateMessage,
} from '../../db/queries/messages'
import { touchRecents } from '../../db/queries/account-stats'
import { searchInboxMessages } from '../../db/queries/search'
import { fail } from '../../http/errors'
import { inboxAccess, requestedMessage, withInboxAccess } from '../../http/inbox-access'
import { attachmentKey, releaseStorage } from '../../mail/inbound/storage'
import type { AppEnv } from '../../env'
import { downloadHeaders, pageQuery, validate } from '../../http/validation'
import { searchQueryOrFail } from '../../http/search'
import { describe, file, json, media, pathParam } from '../../http/openapi/describe'
import { MessageList } from '../../http/openapi/common'
import { FullMessage, fullMessageJson, Message, messageJson } from '../../mail/message-json'
import {
  AttachmentList,
  folderParam,
  searchParam,
  GroupedHeaders,
  headersQuery,
  labelParam,
  MessageCount,
  MessageDeleted,
  MessageFolder,
  MessageLabels,
  MessageRead,
  OrderedHeaders,
} from './schema'

/**
 * Messages of an inbox, mounted at `/api/addresses`: `/:email/messages...`, `/:email/message-count`
 * and `/starred/messages` (seed paths plus the OpenAPI's modern ones).
 */
export const messagesRoutes = new Hono<AppEnv>()

/** `?limit=&until=` of the starred list; the default limit is the account's messageLimit. */
const starredQuery = z.object({
  limit: z.coerce.number().int().min(0).optional(),
  until: z.coerce.date().optional(),
})

// First, before `/:email/messages`: see the mount order note in src/app.ts.
messagesRoutes.get(
  '/starred/messages',
  describe({
    tag: 'Messages',
    access: 'account',
    summary: 'List starred messages',
    description:
      "Every message the account starred, in any inbox, newest first. Starred mail counts toward the account's `messageLimit`, which bounds the list; `limit` and `until` page it if wanted.",
    responses: { 200: json(MessageList, 'Starred messages') },
  }),
  accountOnly,
  validate('query', starredQuery),
  async (c) => {
    const account = requireAccount(c.get('account'))
    // Issue #16 item 6: no page size of 20 here: the official client reads one answer as the
    // whole list, and messageLimit keeps it bounded.
    const { limit, until } = c.req.valid('query')
    const page = { until, limit: Math.min(limit ?? account.messageLimit, account.messageLimit) }
    const rows = await listStarredMessages(database(c.env.DB), account.id, page)
    return c.json(rows.map(messageJson))
  },
)

messagesRoutes.get(
  '/:email/messages',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'List inbox messages',
    description:
      'The messages of an inbox, newest first; `until` pages back in time. `q` narrows them ' +
      'with the search syntax (README "Search"): `from:`, `subject:`, `is:unread`, ...',
    responses: { 200: json(MessageList, 'Messages of the inbox') },
    failures: { 400: 'Invalid search: the reason (unbalanced quote, unknown operator, ...).' },
  }),
  validate('query', pageQuery.extend({ q: searchParam.optional() })),
  async (c) => {
    const db = database(c.env.DB)
    const account = c.get('account')
    const { q, ...page } = c.req.valid('query')
    const search = q === undefined ? undefined : searchQueryOrFail(q)
    const { access, result: rows } = await withInboxAccess(
      db,
      c.req.param('email'),
      account,
      (inbox, viewerId) =>
        search
          ? searchInboxMessages(db, inbox, viewerId, page, search)
          : listInboxMessages(db, inbox, viewerId, page),
    )
    // `recents` of GET /api/me; written after the response so listing does not wait on it.
    if (account) c.executionCtx.waitUntil(touchRecents(db, account, access.inbox))
    return c.json(rows.map(messageJson))
  },
)

messagesRoutes.delete(
  '/:email/messages',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Delete all messages of an inbox',
    description: 'Deletes every unstarred message of the inbox; starred ones stay.',
    responses: { 204: { description: 'Deleted' } },
  }),
  async (c) => {
    const db = database(c.env.DB)
    const access = await inboxAccess(db, c.req.param('email'), c.get('account'))
    const released = await deleteUnstarredInboxMessages(db, access.inbox)
    await releaseStorage(db, c.env.MAIL, released)
    return c.body(null, 204)
  },
)

messagesRoutes.get(
  '/:email/message-count',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Count inbox messages',
    responses: { 200: json(MessageCount, 'How many messages the inbox holds') },
  }),
  async (c) => {
    const db = database(c.env.DB)
    const { access, result } = await withInboxAccess(
      db,
      c.req.param('email'),
      c.get('account'),
      (inbox, viewerId) => countInboxMessages(db, inbox, viewerId),
    )
    return c.json({ count: result[0]?.count ?? 0, inbox: access.inbox })
  },
)

messagesRoutes.get(
  '/:email/messages/:messageId',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Get a message',
    description: 'The full message: metadata, headers, text, HTML, sanitized HTML and raw source.',
    responses: { 200: json(FullMessage, 'The message') },
    failures: { 404: 'Message not found.' },
  }),
  async (c) => {
    const { message } = await requestedMessage(c)
    return c.json(await fullMessageJson(c.env.MAIL, message))
  },
)

messagesRoutes.delete(
  '/:email/messages/:messageId',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Delete a message',
    responses: { 200: json(MessageDeleted, 'Deleted') },
    failures: { 404: 'Message not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const released = await deleteMessage(db, access.inbox, message.id)
    await releaseStorage(db, c.env.MAIL, released)
    return c.json({ _id: message.id, inbox: access.inbox, message: 'Message was deleted.' })
  },
)

messagesRoutes.put(
  '/:email/messages/:messageId/star',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Star or unstar a message',
    description:
      'Toggles the star. A starred message is kept (never recycled) and leaves public view. Needs a key even on a public inbox.',
    responses: { 200: json(Message, 'The message, `savedBy` set or cleared') },
    failures: { 404: 'Message not found.' },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const { db, access, message } = await requestedMessage(c)
    const savedBy = message.savedBy ? null : account.id
    const updated = await updateMessage(db, access.inbox, message.id, { savedBy })
    if (!updated) fail(404, 'Message not found.')
    return c.json(messageJson(updated))
  },
)

messagesRoutes.get(
  '/:email/messages/:messageId/headers',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Get message headers',
    description:
      'In the format `messageHeadersFormat` names: grouped JSON, ordered JSON or plain text. `?download=1` makes browsers save it as a file.',
    responses: {
      200: {
        description: 'The headers',
        content: {
          ...json(z.union([GroupedHeaders, OrderedHeaders]), '', GroupedHeaders.meta()?.example)
            .content,
          ...media('text/plain', '', 'from: Sender <sender@example.org>\nsubject: Hello\n').content,
        },
      },
    },
    failures: { 404: 'Message not found.' },
  }),
  validate('query', headersQuery),
  async (c) => {
    const { message } = await requestedMessage(c)
    const format = c.req.valid('query').messageHeadersFormat
    const extension = format === 'plain' ? 'txt' : 'json'
    const download = downloadHeaders(c, `${message.id}-headers.${extension}`)
    if (format === 'json-ordered') {
      return c.json(
        message.headers.map(([name, value]) => ({ name, value })),
        200,
        download,
      )
    }
    if (format === 'plain') {
      const text = message.headers.map(([name, value]) => `${name}: ${value}`).join('\n') + '\n'
      return c.text(text, 200, download)
    }
    const grouped: Record<string, string[]> = {}
    for (const [name, value] of message.headers) (grouped[name] ??= []).push(value)
    return c.json(grouped, 200, download)
  },
)

messagesRoutes.get(
  '/:email/messages/:messageId/attachments',
  describe({
    tag: 'Attachments',
    access: 'inbox',
    summary: 'List message attachments',
    responses: { 200: json(AttachmentList, 'Attachment metadata, in message order') },
    failures: { 404: 'Message not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const attachments = await findMessageAttachments(db, message.id)
    return c.json(
      attachments.map((attachment) => ({
        checksum: attachment.md5,
        contentDisposition: attachment.contentDisposition,
        contentId: attachment.contentId,
        contentType: attachment.contentType,
        fileName: attachment.filename,
        length: attachment.size,
        ...(attachment.transferEncoding === null
          ? {}
          : { transferEncoding: attachment.transferEncoding }),
      })),
    )
  },
)

messagesRoutes.get(
  '/:email/messages/:messageId/attachments/:attachmentIdentifier',
  describe({
    tag: 'Attachments',
    access: 'inbox',
    summary: 'Download an attachment',
    description: "The bytes, with the attachment's own Content-Type.",
    parameters: [
      pathParam(
        'attachmentIdentifier',
        'The MD5 sum, the content id (with or without <>) or the file name',
      ),
    ],
    responses: { 200: file('The attachment') },
    failures: { 404: 'Attachment not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const wanted = c.req.param('attachmentIdentifier')
    const bare = (value: string | null) => value?.replace(/^<|>$/g, '')
    // OpenAPI: the identifier may be the MD5, the content id (with or without <>) or the name.
    const attachment = (await findMessageAttachments(db, message.id)).find(
      (a) => a.md5 === wanted || bare(a.contentId) === bare(wanted) || a.filename === wanted,
    )
    if (!attachment) fail(404, 'Attachment not found.')
    const object = await c.env.MAIL.get(attachmentKey(attachment.md5))
    if (!object) fail(404, 'Attachment not found.')
    const filename = (attachment.filename ?? attachment.md5).replace(/["\\\r\n]/g, '_')
    return c.body(object.body, 200, {
      'Content-Type': attachment.contentType,
      'Content-Length': String(object.size),
      'Content-Disposition': `attachment; filename="${filename}"`,
    })
  },
)

messagesRoutes.put(
  '/:email/messages/:messageId/labels/:label',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Add a label',
    parameters: [pathParam('label', 'The label', { type: 'string', minLength: 1, maxLength: 100 })],
    responses: { 200: json(MessageLabels, 'The labels of the message') },
    failures: { 400: 'Invalid label: 1 to 100 characters.', 404: 'Message not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const label = labelParam.safeParse(c.req.param('label'))
    if (!label.success) fail(400, 'Invalid label: 1 to 100 characters.')
    const labels = [...new Set([...message.labels, label.data])]
    await updateMessage(db, access.inbox, message.id, { labels })
    return c.json({ _id: message.id, labels })
  },
)

messagesRoutes.delete(
  '/:email/messages/:messageId/labels/:label',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Remove a label',
    description: 'Idempotent: removing a label the message does not carry changes nothing.',
    parameters: [pathParam('label', 'The label')],
    responses: { 200: json(MessageLabels, 'The labels of the message') },
    failures: { 404: 'Message not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    // Idempotent: removing a label the message does not carry leaves it as it is.
    const label = c.req.param('label')
    const labels = message.labels.filter((existing) => existing !== label)
    await updateMessage(db, access.inbox, message.id, { labels })
    return c.json({ _id: message.id, labels })
  },
)

messagesRoutes.put(
  '/:email/messages/:messageId/folder/:folder',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Move a message to a folder',
    parameters: [pathParam('folder', 'The folder', { type: 'string', enum: folderParam.options })],
    responses: { 200: json(MessageFolder, 'The new folder') },
    failures: { 400: 'Invalid folder: one of inbox, all, spam, trash.', 404: 'Message not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const folder = folderParam.safeParse(c.req.param('folder'))
    if (!folder.success) fail(400, 'Invalid folder: one of inbox, all, spam, trash.')
    await updateMessage(db, access.inbox, message.id, { folder: folder.data })
    return c.json({ _id: message.id, folder: folder.data })
  },
)

messagesRoutes.put(
  '/:email/messages/:messageId/read/:readBoolean',
  describe({
    tag: 'Messages',
    access: 'inbox',
    summary: 'Mark a message read or unread',
    parameters: [
      pathParam('readBoolean', 'Read or not', { type: 'string', enum: ['true', 'false'] }),
    ],
    responses: { 200: json(MessageRead, 'The new read state') },
    failures: { 400: 'Invalid readBoolean: true or false.', 404: 'Message not found.' },
  }),
  async (c) => {
    const { db, access, message } = await requestedMessage(c)
    const value = c.req.param('readBoolean')
    if (value !== 'true' && value !== 'false') fail(400, 'Invalid readBoolean: true or false.')
    await updateMessage(db, access.inbox, message.id, { read: value === 'true' })
    // `folder`: Mailsac's OpenAPI document names the read state so (issue #16 item 7).
    return c.json({ _id: message.id, read: value === 'true', folder: value === 'true' })
  },
)
