import { z } from 'zod'
import { Message, messageExample } from '../../mail/message-json'

// The response bodies of /api/inbox, /api/inbox-filter and /api/inbox-search.

export const InboxPage = z
  .object({
    messages: z.array(Message),
    unread: z.number().int(),
    limit: z.number().int(),
    skip: z.number().int(),
  })
  .meta({ id: 'InboxPage', example: { messages: [messageExample], unread: 1, limit: 20, skip: 0 } })

export const InboxFilter = z
  .object({ messages: z.array(Message) })
  .meta({ id: 'InboxFilter', example: { messages: [messageExample] } })

export const InboxSearch = z
  .object({ query: z.string(), messages: z.array(Message) })
  .meta({ id: 'InboxSearch', example: { query: 'Hello', messages: [messageExample] } })
