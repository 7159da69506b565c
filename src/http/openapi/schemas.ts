import { z } from 'zod'

// The response bodies of the API, as zod schemas. They only document: handlers build their
// objects with the query modules' *Json() functions, and test/openapi/ checks real responses
// against the document generated from these, so a handler that changes shape fails there.
// `.meta({ id })` makes each a component of /api/openapi.json.

const EXAMPLE_ID = 'Wq3TNmR8bLx9bKxT2zQhZp4pXa'
const EXAMPLE_INBOX = 'someone@example.com'
const EXAMPLE_DATE = '2026-11-24T10:00:00.000Z'
const EXAMPLE_MD5 = '4a4b3c8fc1c3f5c5e1a8d4d0b0c9a8b7'

/** A list component whose example is its item's. */
function listOf(item: z.ZodType, id: string, description?: string) {
  return z.array(item).meta({ id, description, example: [item.meta()?.example] })
}

const isoDate = (description: string) =>
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

export const Recipient = z.object({ name: z.string(), address: z.string() }).meta({
  id: 'Recipient',
  description: 'A sender or recipient; `name` may be an empty string.',
  example: { name: 'Sender', address: 'sender@example.org' },
})

const messageExample = {
  _id: EXAMPLE_ID,
  inbox: EXAMPLE_INBOX,
  originalInbox: EXAMPLE_INBOX,
  domain: 'example.com',
  from: [{ name: 'Sender', address: 'sender@example.org' }],
  to: [{ name: '', address: EXAMPLE_INBOX }],
  cc: [],
  bcc: [],
  subject: 'Hello',
  received: EXAMPLE_DATE,
  size: 1843,
  attachments: null,
  savedBy: null,
  labels: [],
  folder: 'inbox',
  read: false,
  ip: '192.0.2.10',
  links: ['https://example.org/verify?token=abc123'],
}

/** `messageJson()` in src/db/queries/messages.ts. */
export const Message = z
  .object({
    _id: z.string().meta({ description: 'The message id' }),
    inbox: z.string().meta({ description: 'The inbox the message is in' }),
    originalInbox: z
      .string()
      .meta({ description: 'The address it was sent to (the encryptedInbox alias, if so)' }),
    domain: z.string().meta({ description: 'The domain of the inbox' }),
    from: z.array(Recipient),
    to: z.array(Recipient),
    cc: z.array(Recipient),
    bcc: z.array(Recipient),
    subject: z.string(),
    received: isoDate('When the message was received'),
    size: z.number().int().meta({ description: 'Bytes of the raw message' }),
    attachments: z
      .array(z.string())
      .nullable()
      .meta({ description: 'MD5 sums of the attachments, or null when there are none' }),
    savedBy: z
      .string()
      .nullable()
      .meta({ description: 'The account that starred the message, or null' }),
    labels: z.array(z.string()),
    folder: z.enum(['inbox', 'all', 'spam', 'trash']),
    read: z.boolean(),
    ip: z.string().nullable().meta({ description: 'The client that delivered it over SMTP' }),
    links: z.array(z.string()).meta({
      description: 'Web links of the text and HTML bodies, de-duplicated, in order (at most 100)',
    }),
  })
  .meta({
    id: 'Message',
    description: 'The message metadata of list, star and search responses.',
    example: messageExample,
  })

/** `headersObject()`: one key per header name, repeated headers as an array. */
export const HeadersObject = z.record(z.string(), z.union([z.string(), z.array(z.string())])).meta({
  id: 'HeadersObject',
  description: 'Headers by lower-cased name; a repeated header is an array of its values.',
  example: { from: 'Sender <sender@example.org>', subject: 'Hello', received: ['a', 'b'] },
})

/** `fullMessageJson()` in src/mail/message-json.ts (also the websocket and webhook payload). */
export const FullMessage = Message.extend({
  headers: HeadersObject,
  text: z.string().meta({ description: 'The text body' }),
  html: z.string().meta({ description: 'The HTML body as sent' }),
  body: z.string().meta({ description: 'The sanitized HTML body' }),
  raw: z.string().nullable().meta({
    description: 'A UTF-8 reading of the raw message; null for large messages (GET /api/raw)',
  }),
}).meta({
  id: 'FullMessage',
  description: 'A message with its headers, bodies and raw source.',
  example: {
    ...messageExample,
    headers: { from: 'Sender <sender@example.org>', subject: 'Hello' },
    text: 'Hi there',
    html: '',
    body: 'Hi there',
    raw: 'From: Sender <sender@example.org>\r\nSubject: Hello\r\n\r\nHi there\r\n',
  },
})

export const MessageList = listOf(Message, 'MessageList', 'Messages, newest first.')

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
  .object({ _id: z.string(), read: z.boolean() })
  .meta({ id: 'MessageRead', example: { _id: EXAMPLE_ID, read: true } })

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
    },
  })

export const AttachmentList = listOf(AttachmentMeta, 'AttachmentList')

const addressExample = {
  _id: 'mine@example.com',
  owner: 'alice',
  created: EXAMPLE_DATE,
  updated: EXAMPLE_DATE,
  enablews: false,
  forward: null,
  webhook: 'https://hooks.example.net/mail',
  webhookSlack: null,
  webhookSlackToFrom: false,
  encryptedInbox: 'inbox-0f1e2d3c4b5a69788796a5b4c3d2e1f0@example.com',
  info: null,
  webhookSecret: 'whsec_0123456789abcdef',
}

/** `addressJson()` in src/db/queries/addresses.ts: a reserved (private) address. */
export const Address = z
  .object({
    _id: z.string().meta({ description: 'The address itself' }),
    owner: z.string().meta({ description: 'The account that reserved it' }),
    created: isoDate('When it was reserved'),
    updated: isoDate('When its settings last changed'),
    enablews: z.boolean().meta({ description: 'Publish its mail to websocket subscribers' }),
    forward: z.string().nullable().meta({ description: 'Forward its mail to this address' }),
    webhook: z.string().nullable().meta({ description: 'POST its mail to this URL' }),
    webhookSlack: z.string().nullable().meta({ description: 'Slack incoming-webhook URL' }),
    webhookSlackToFrom: z.boolean(),
    encryptedInbox: z.string().meta({ description: 'An alias delivering to this inbox' }),
    info: z.string().nullable(),
    webhookSecret: z
      .string()
      .nullable()
      .meta({ description: 'The key signing its webhook requests (owner only)' }),
  })
  .meta({ id: 'Address', description: 'A reserved private address.', example: addressExample })

export const AddressList = listOf(Address, 'AddressList')

/** GET /api/addresses/:email for an address nobody reserved. */
export const UnreservedAddress = z
  .object({
    _id: z.string(),
    enablews: z.literal(false),
    forward: z.null(),
    webhook: z.null(),
    webhookSlack: z.null(),
    owner: z.string().optional().meta({ description: 'Present at an owned domain' }),
    implicit: z.literal(true).optional().meta({ description: 'At an owned domain' }),
    catchAll: z.string().optional().meta({ description: 'The owned domain' }),
  })
  .meta({
    id: 'UnreservedAddress',
    description: 'An address nobody reserved; at an owned domain it names the domain owner.',
    example: {
      _id: 'anyone@example.com',
      enablews: false,
      forward: null,
      webhook: null,
      webhookSlack: null,
    },
  })

export const AddressLookup = z.union([Address, UnreservedAddress]).meta({
  id: 'AddressLookup',
  example: addressExample,
})

export const AddressAvailability = z
  .object({ available: z.boolean(), email: z.string(), owned: z.boolean() })
  .meta({
    id: 'AddressAvailability',
    example: { available: true, email: 'free@example.com', owned: false },
  })

export const AddressReleased = z.object({ _id: z.string(), message: z.string() }).meta({
  id: 'AddressReleased',
  example: { _id: 'mine@example.com', message: 'Address was released.' },
})

export const BulkReservation = z
  .array(z.union([Address, z.object({ _id: z.string(), error: z.string(), message: z.string() })]))
  .meta({
    id: 'BulkReservation',
    description: 'One entry per requested address: the address, or why it was not reserved.',
    example: [
      addressExample,
      {
        _id: 'taken@example.com',
        error: 'Unauthorized',
        message: 'This address is owned by another account.',
      },
    ],
  })

/** POST /api/me/api-key. */
export const NewApiKey = z
  .object({
    _id: z.string().meta({ description: 'The username' }),
    apiKey: z.string().meta({ description: 'The new key: 64 letters and digits, shown once' }),
  })
  .meta({
    id: 'NewApiKey',
    description: 'A newly issued API key; the previous one no longer works.',
    example: { _id: 'alice', apiKey: 'k'.repeat(64) },
  })

/** GET /api/me. */
export const Me = z
  .object({
    _id: z.string().meta({ description: 'The username' }),
    email: z.string().nullable(),
    messageLimit: z.number().int().meta({ description: 'Stored history the account may keep' }),
    sendsRemaining: z.number().int().meta({ description: 'Outbound message credits' }),
    catchAll: z.number().int(),
    privateAddressCredits: z.number().int(),
    recents: z.array(z.string()).meta({ description: 'Inboxes it listed lately, newest first' }),
    noAds: z.literal(1),
  })
  .nullable()
  .meta({
    id: 'Me',
    description: 'The account of the key, or null when the key is missing or unknown.',
    example: {
      _id: 'alice',
      email: 'alice@example.net',
      messageLimit: 1000,
      sendsRemaining: 10,
      catchAll: 0,
      privateAddressCredits: 4,
      recents: [EXAMPLE_INBOX],
      noAds: 1,
    },
  })

/** `accountStats()` in src/db/queries/account-stats.ts. */
export const AccountStats = z
  .object({
    storedMessages: z.number().int(),
    starredMessages: z.number().int(),
    inboxBytes: z.number().int(),
    recycledMessages: z.number().int(),
    addresses: z.array(z.string()),
    domains: z.array(z.string()),
    nonOwnedInboxes: z.array(z.string()),
  })
  .meta({
    id: 'AccountStats',
    example: {
      storedMessages: 12,
      starredMessages: 2,
      inboxBytes: 48211,
      recycledMessages: 0,
      addresses: ['mine@example.com'],
      domains: ['mine.example'],
      nonOwnedInboxes: [EXAMPLE_INBOX],
    },
  })

const domainExample = {
  _id: 'mine.example',
  owner: 'alice',
  created: EXAMPLE_DATE,
  isPrivate: true,
  sendingVerified: false,
}

/** `domainJson()` in src/db/queries/domains.ts. */
export const Domain = z
  .object({
    _id: z.string(),
    owner: z.string(),
    created: isoDate('When the operator assigned it'),
    isPrivate: z.literal(true),
    sendingVerified: z.boolean().meta({ description: 'The account may send from it' }),
  })
  .meta({ id: 'Domain', example: domainExample })

export const DomainList = listOf(Domain, 'DomainList')

export const DomainDetail = z
  .object({ domain: Domain, totalMessages: z.number().int() })
  .meta({ id: 'DomainDetail', example: { domain: domainExample, totalMessages: 42 } })

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

/** One row of the stats lists (`Tally` in src/db/queries/mailstats.ts). */
export const Tally = z
  .object({
    _id: z.string().meta({ description: 'What was counted: an address, a domain or an MD5 sum' }),
    n: z.number().int().meta({ description: 'How many public messages' }),
  })
  .meta({ id: 'Tally', example: { _id: EXAMPLE_INBOX, n: 7 } })

export const TallyList = listOf(Tally, 'TallyList', 'Most first.')

export const AttachmentCount = z.object({ n: z.number().int() }).meta({
  id: 'AttachmentCount',
  example: { n: 3 },
})

export const Blacklist = z
  .array(z.string())
  .meta({ id: 'Blacklist', example: ['spam.example', '192.0.2.66'] })

export const BlacklistCheck = z
  .object({ blacklisted: z.literal(true) })
  .meta({ id: 'BlacklistCheck', example: { blacklisted: true } })

const windowLimit = z.object({
  requests: z.number().int(),
  periodSeconds: z.number().int(),
  per: z.string(),
})
const listLimit = z.object({ defaultLimit: z.number().int(), maxLimit: z.number().int() })

/** GET /api/limits. */
export const Limits = z
  .object({
    retention: z.object({
      publicMessageHours: z.number().int(),
      publicInboxMaxMessages: z.number().int(),
      appliesTo: z.string(),
      neverDeleted: z.string(),
    }),
    messages: z.object({ maxBytes: z.number().int(), maxRecipients: z.number().int() }),
    lists: z.object({ messages: listLimit, mailstats: listLimit }),
    rateLimits: z.object({ apiKey: windowLimit, anonymous: windowLimit }),
  })
  .meta({
    id: 'Limits',
    example: {
      retention: {
        publicMessageHours: 96,
        publicInboxMaxMessages: 100,
        appliesTo: 'unstarred messages of public inboxes, oldest first',
        neverDeleted: 'starred messages, reserved addresses, owned domains',
      },
      messages: { maxBytes: 26214400, maxRecipients: 100 },
      lists: {
        messages: { defaultLimit: 20, maxLimit: 1000 },
        mailstats: { defaultLimit: 20, maxLimit: 1000 },
      },
      rateLimits: {
        apiKey: { requests: 1200, periodSeconds: 60, per: 'API key' },
        anonymous: { requests: 600, periodSeconds: 60, per: 'client IP address (IPv6: per /64)' },
      },
    },
  })

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

/** `deliveryJson()` in src/db/queries/deliveries.ts. */
export const Delivery = z
  .object({
    _id: z.string(),
    address: z.string(),
    messageId: z.string(),
    kind: z.enum(['webhook', 'slack', 'forward']),
    target: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'dead']),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    created: isoDate('When the message arrived'),
    updated: isoDate('The last attempt'),
    deliveredAt: z.string().nullable().meta({ format: 'date-time' }),
  })
  .meta({
    id: 'Delivery',
    example: {
      _id: 'dlv_01',
      address: 'mine@example.com',
      messageId: EXAMPLE_ID,
      kind: 'webhook',
      target: 'https://hooks.example.net/mail',
      status: 'delivered',
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      created: EXAMPLE_DATE,
      updated: EXAMPLE_DATE,
      deliveredAt: EXAMPLE_DATE,
    },
  })

export const DeliveryList = listOf(Delivery, 'DeliveryList')

export const LoginResult = z
  .object({
    _id: z.string(),
    csrfToken: z.string().meta({ description: 'Send it as X-CSRF-Token on state changes' }),
  })
  .meta({ id: 'LoginResult', example: { _id: 'alice', csrfToken: 'c2a1f0e9d8' } })

export const Notice = z
  .object({ message: z.string() })
  .meta({ id: 'Notice', example: { message: 'Signed out.' } })

// Operator routes (`/internal/*`).

const storedExample = { _id: EXAMPLE_ID, inbox: EXAMPLE_INBOX }
const StoredMessage = z.object({ _id: z.string(), inbox: z.string() })

export const IngestResult = z
  .object({ messages: z.array(StoredMessage) })
  .meta({ id: 'IngestResult', example: { messages: [storedExample] } })

export const IngestBatchResult = z
  .object({
    results: z.array(
      z.union([
        z.object({ messages: z.array(StoredMessage) }),
        z.object({ status: z.number().int(), error: z.string(), message: z.string() }),
      ]),
    ),
  })
  .meta({
    id: 'IngestBatchResult',
    example: {
      results: [
        { messages: [storedExample] },
        { status: 403, error: 'Forbidden', message: 'The sender is on the deny-list.' },
      ],
    },
  })

const adminAccountExample = {
  _id: 'alice',
  email: 'alice@example.net',
  messageLimit: 1000,
  privateAddressCredits: 5,
  sendsRemaining: 0,
  created: EXAMPLE_DATE,
}

export const AdminAccount = z
  .object({
    _id: z.string(),
    email: z.string().nullable(),
    messageLimit: z.number().int(),
    privateAddressCredits: z.number().int(),
    sendsRemaining: z.number().int(),
    created: isoDate('When it was created'),
  })
  .meta({ id: 'AdminAccount', example: adminAccountExample })

export const AdminAccountCreated = AdminAccount.extend({
  apiKey: z.string().meta({ description: 'Shown once; only its hash is stored' }),
}).meta({
  id: 'AdminAccountCreated',
  example: { ...adminAccountExample, apiKey: 'k'.repeat(64) },
})

export const ApiKey = z
  .object({ _id: z.string(), apiKey: z.string() })
  .meta({ id: 'ApiKey', example: { _id: 'alice', apiKey: 'k'.repeat(64) } })

export const Sends = z
  .object({ _id: z.string(), sendsRemaining: z.number().int() })
  .meta({ id: 'Sends', example: { _id: 'alice', sendsRemaining: 25 } })

export const Released = z
  .object({ _id: z.string(), message: z.string() })
  .meta({ id: 'Released', example: { _id: 'alice', message: 'Account was deleted.' } })

const denylistExample = { entry: 'spam.example', reason: 'bulk mail', created: EXAMPLE_DATE }

export const DenylistEntry = z
  .object({ entry: z.string(), reason: z.string().nullable(), created: isoDate('When added') })
  .meta({ id: 'DenylistEntry', example: denylistExample })

export const Denylist = z
  .object({ entries: z.array(DenylistEntry) })
  .meta({ id: 'Denylist', example: { entries: [denylistExample] } })

export const DenylistRemoved = z.object({ entry: z.string(), message: z.string() }).meta({
  id: 'DenylistRemoved',
  example: { entry: 'spam.example', message: 'Removed from the deny-list.' },
})
