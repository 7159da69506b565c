import { z } from 'zod'
import { Message, messageExample } from '../../mail/message-json'

// The pieces of the API's response schemas that several resources share. Each resource's own
// schemas are in src/routes/<resource>/schema.ts; the message object's in
// src/mail/message-json.ts (REST, websocket and webhooks send it). They only document:
// handlers build their objects with the json.ts serializers, and test/http/openapi/ checks
// real responses against the document generated from these, so a handler that changes shape
// fails there. `.meta({ id })` makes each a component of /api/openapi.json.

export const EXAMPLE_ID = messageExample._id
export const EXAMPLE_INBOX = messageExample.inbox
export const EXAMPLE_DATE = messageExample.received
export const EXAMPLE_MD5 = '4a4b3c8fc1c3f5c5e1a8d4d0b0c9a8b7'

/** A list component whose example is its item's. */
export function listOf(item: z.ZodType, id: string, description?: string) {
  return z.array(item).meta({ id, description, example: [item.meta()?.example] })
}

export const isoDate = (description: string) =>
  z.string().meta({ format: 'date-time', description, example: EXAMPLE_DATE })

/** Mailsac's `{ error, message }` failure body. */
export const ErrorBody = z
  .object({
    error: z.string().meta({ description: 'The HTTP status text' }),
    message: z.string().meta({ description: 'What went wrong, for a person to read' }),
  })
  .meta({
    id: 'Error',
    description: 'Every failure: the status text and a message (seed: "JSON Error Formats").',
    example: { error: 'Unauthorized', message: 'The API key is not valid.' },
  })

/** Messages of an inbox, a domain or the stats (three resources list them). */
export const MessageList = listOf(Message, 'MessageList', 'Messages, newest first.')

export const Notice = z
  .object({ message: z.string() })
  .meta({ id: 'Notice', example: { message: 'Signed out.' } })
