import { z } from 'zod'
import { listOf } from '../../http/openapi/common'
import { FullMessage } from '../../mail/message-json'

const extractFields = {
  codes: z.array(z.string()).meta({
    description: 'One-time codes found in the bodies, most likely first (at most 10)',
  }),
  actionLink: z.string().nullable().meta({
    description: 'The link that looks like the action to take (verify, confirm, reset, sign in)',
  }),
}

/** GET /api/addresses/:email/messages/:messageId/extract. */
export const MessageExtract = z.object({ links: z.array(z.string()), ...extractFields }).meta({
  id: 'MessageExtract',
  description: 'The links, action link and one-time codes of a message.',
  example: {
    links: ['https://example.org/verify?token=abc123', 'https://example.org/unsubscribe'],
    actionLink: 'https://example.org/verify?token=abc123',
    codes: ['482913'],
  },
})

/** A message of GET .../wait and .../latest: the full message with its codes and action link. */
export const WaitMessage = FullMessage.extend(extractFields).meta({
  id: 'WaitMessage',
  description: 'A full message with its one-time codes and action link.',
  example: {
    ...(FullMessage.meta()?.example as object),
    codes: ['482913'],
    actionLink: 'https://example.org/verify?token=abc123',
  },
})

export const WaitMessageList = listOf(
  WaitMessage,
  'WaitMessageList',
  'Matching messages, newest first.',
)
