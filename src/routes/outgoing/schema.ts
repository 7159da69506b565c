import { z } from 'zod'
import { EXAMPLE_ID, EXAMPLE_INBOX } from '../../http/openapi/common'

// The response body of /api/outgoing-messages.

/** `SendResult` in src/mail/outbound/send.ts. */
export const SendResult = z
  .object({
    _id: z.string(),
    messageId: z.string().meta({ description: 'The Message-ID header' }),
    from: z.string(),
    to: z.array(z.string()),
    subject: z.string(),
    size: z.number().int(),
    sendsRemaining: z.number().int(),
    recipients: z.array(
      z.union([
        z.object({
          address: z.string(),
          delivered: z.literal(true),
          via: z.literal('inbox'),
          _id: z.string(),
          inbox: z.string(),
        }),
        z.object({ address: z.string(), delivered: z.literal(true), via: z.literal('send_email') }),
        z.object({
          address: z.string(),
          delivered: z.literal(false),
          via: z.enum(['inbox', 'send_email']),
          permanent: z.boolean(),
          error: z.string(),
        }),
      ]),
    ),
  })
  .meta({
    id: 'SendResult',
    description: 'What became of each recipient: stored in an inbox here, or relayed.',
    example: {
      _id: 'out_2b7c0d9e',
      messageId: '<2b7c0d9e@mine.example>',
      from: 'me@mine.example',
      to: [EXAMPLE_INBOX],
      subject: 'Hello',
      size: 512,
      sendsRemaining: 9,
      recipients: [
        {
          address: EXAMPLE_INBOX,
          delivered: true,
          via: 'inbox',
          _id: EXAMPLE_ID,
          inbox: EXAMPLE_INBOX,
        },
      ],
    },
  })
