import { sql, type SQL } from 'drizzle-orm'
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
  type AnySQLiteColumn,
  type IndexColumn,
} from 'drizzle-orm/sqlite-core'
import { randomString } from '../lib/random'

/** A Mailsac-style recipient: `{ name, address }`. */
export type Recipient = { name: string; address: string }

/** Headers in message order as `[lower-cased name, unfolded value]` pairs. */
export type HeaderList = Array<[string, string]>

export const accounts = sqliteTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    email: text('email'),
    // SHA-256 of the API key, hex. The key itself is never stored.
    apiKeyHash: text('api_key_hash').notNull(),
    messageLimit: integer('message_limit').notNull().default(1000),
    sendsRemaining: integer('sends_remaining').notNull().default(0),
    privateAddressCredits: integer('private_address_credits').notNull().default(0),
    catchAll: integer('catch_all').notNull().default(0),
    // Inboxes this account opened lately, newest first (GET /api/me `recents`).
    recents: text('recents_json', { mode: 'json' }).$type<string[]>().notNull().default([]),
    // Private messages recycled because the account reached messageLimit (GET /api/me/stats).
    recycledMessages: integer('recycled_messages').notNull().default(0),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('accounts_api_key_hash_idx').on(t.apiKeyHash)],
)

export const privateAddresses = sqliteTable(
  'private_addresses',
  {
    email: text('email').primaryKey(),
    owner: text('owner')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    domain: text('domain').notNull(),
    encryptedInbox: text('encrypted_inbox').notNull().unique(),
    enablews: integer('enablews', { mode: 'boolean' }).notNull().default(false),
    forward: text('forward'),
    webhook: text('webhook'),
    webhookSlack: text('webhook_slack'),
    webhookSlackToFrom: integer('webhook_slack_to_from', { mode: 'boolean' })
      .notNull()
      .default(false),
    info: text('info'),
    // HMAC-SHA256 key signing this address's webhook requests (shown to the owner only).
    webhookSecret: text('webhook_secret'),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
    updated: integer('updated', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('private_addresses_owner_idx').on(t.owner)],
)

/**
 * SQL condition: the message is public, so it may appear in anything anonymous (mail stats,
 * attachment search, the public live feed, retention). A message is private when its inbox is
 * reserved, its domain is owned by an account, or someone starred it (a starred message is
 * "made private for the user", seed). The partial indexes below repeat it as their WHERE, and
 * SQLite uses such an index only for a query carrying the same terms, so every query takes it
 * from here (isPublicMessage()) and none binds the zeros as parameters.
 */
export function publicMessage(t: {
  savedBy: AnySQLiteColumn
  inboxReserved: AnySQLiteColumn
  domainOwned: AnySQLiteColumn
}): SQL {
  return sql`(${t.savedBy} is null and ${t.inboxReserved} = 0 and ${t.domainOwned} = 0)`
}

/** SQL condition: the message's From header gave an address (mail stats count senders by it). */
export function hasSender(t: { sender: AnySQLiteColumn }): SQL {
  return sql`${t.sender} <> ''`
}

/** SQL condition: the message carries at least one attachment. */
export function hasAttachments(t: { attachments: AnySQLiteColumn }): SQL {
  return sql`${t.attachments} <> '[]'`
}

type PrivacyColumns = Parameters<typeof publicMessage>[0]

/**
 * An index of public mail only (plus `where`), on `columns`. The privacy columns close it
 * although its WHERE already fixes them: SQLite counts an index as covering only when its
 * columns hold every column the query reads, the WHERE not included, and without them every
 * entry of a walk would cost a read of its message row.
 */
function publicIndex(
  name: string,
  t: PrivacyColumns,
  columns: [IndexColumn, ...IndexColumn[]],
  where?: SQL,
) {
  return index(name)
    .on(...columns, t.savedBy, t.inboxReserved, t.domainOwned)
    .where(where ? sql`${publicMessage(t)} and ${where}` : publicMessage(t))
}

/**
 * One row per stored message per recipient inbox (Mailsac stores one message per RCPT).
 * Everything the list and metadata responses need lives here so listing never touches R2.
 * The raw bytes and the parsed bodies live in an R2 "pack" object (see src/mail/inbound/storage.ts)
 * at the byte ranges recorded here; the rows of one delivery share them.
 */
export const messages = sqliteTable(
  'messages',
  {
    id: text('id').primaryKey(),
    inbox: text('inbox').notNull(),
    originalInbox: text('original_inbox').notNull(),
    domain: text('domain').notNull(),
    from: text('from_json', { mode: 'json' }).$type<Recipient[]>().notNull(),
    to: text('to_json', { mode: 'json' }).$type<Recipient[]>().notNull(),
    cc: text('cc_json', { mode: 'json' }).$type<Recipient[]>().notNull(),
    bcc: text('bcc_json', { mode: 'json' }).$type<Recipient[]>().notNull(),
    subject: text('subject').notNull().default(''),
    received: integer('received', { mode: 'timestamp_ms' }).notNull(),
    size: integer('size').notNull(),
    // The octets the message has with every bare LF written as CRLF: what POP3 sends for it
    // (RFC 1939 LIST/STAT sizes count the message as sent). Null for mail stored before it.
    crlfSize: integer('crlf_size'),
    attachments: text('attachments_json', { mode: 'json' }).$type<string[]>().notNull(),
    savedBy: text('saved_by'),
    labels: text('labels_json', { mode: 'json' }).$type<string[]>().notNull(),
    folder: text('folder').notNull().default('inbox'),
    read: integer('read', { mode: 'boolean' }).notNull().default(false),
    envelopeFrom: text('envelope_from').notNull().default(''),
    // The From header's first address, lower-cased: what mail stats count senders by.
    sender: text('sender').notNull().default(''),
    ip: text('ip'),
    // Found once at ingest (src/mail/inbound/links.ts, codes.ts); rows from before hold none.
    links: text('links_json', { mode: 'json' }).$type<string[]>().notNull().default([]),
    codes: text('codes_json', { mode: 'json' }).$type<string[]>().notNull().default([]),
    actionLink: text('action_link'),
    // Mailsac's via/rtls, from the topmost Received header at ingest (src/mail/received-hop.ts),
    // kept on the row so lists answer them without reading the delivery's headers.
    via: text('via'),
    rtls: integer('rtls', { mode: 'boolean' }),
    // Subject, people and the text body's first SEARCH_TEXT_CHARS, lower-cased: what plain
    // search words match, since bodies live in R2 (src/mail/inbound/search-text.ts).
    searchText: text('search_text').notNull().default(''),
    packKey: text('pack_key').notNull(),
    // The raw message is `size` bytes at `rawOffset`; the parsed bodies JSON follows it.
    rawOffset: integer('raw_offset').notNull(),
    contentOffset: integer('content_offset').notNull(),
    contentLength: integer('content_length').notNull(),
    // Whether the inbox is reserved / the domain owned by an account right now. Only the
    // triggers of migrations/0005_public_message_flags.sql write them (on every insert here and
    // every change to private_addresses or domains, in the same statement), so no code path
    // can forget them. They turn "is this message public" from two lookups per row into a
    // test on the row itself, which partial indexes can hold (see publicMessage()). A row's
    // inbox and domain never change after insert; the triggers rely on it.
    inboxReserved: integer('inbox_reserved', { mode: 'boolean' }).notNull().default(false),
    domainOwned: integer('domain_owned', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('messages_inbox_received_idx').on(t.inbox, t.received),
    index('messages_domain_received_idx').on(t.domain, t.received),
    // Public mail only, one index per thing the mail stats count, each led by that thing: a
    // count per key is then one ordered walk of the index, with no sort of every message in
    // the range (the sort was most of the cost). Private mail never enters them.
    publicIndex('messages_public_inbox_idx', t, [t.inbox, t.received]),
    publicIndex('messages_public_domain_idx', t, [t.domain, t.received]),
    publicIndex('messages_public_sender_idx', t, [t.sender, t.received], hasSender(t)),
    // Retention walks public mail oldest first; common-attachments reads the MD5 lists of the
    // messages that carry attachments, by date, straight from the second.
    publicIndex('messages_public_received_idx', t, [t.received]),
    publicIndex(
      'messages_public_attachments_idx',
      t,
      [t.received, t.attachments],
      hasAttachments(t),
    ),
    index('messages_saved_by_idx')
      .on(t.savedBy)
      .where(sql`${t.savedBy} is not null`),
    index('messages_pack_key_idx').on(t.packKey),
  ],
)

/**
 * The parsed headers of one delivery, once: every recipient row of it shares them (a delivery
 * is its pack and the offset of its raw bytes there). Up to MAX_HEADERS_BYTES, so a message to
 * 100 inboxes no longer writes them 100 times, nor lists read them. The trigger of
 * migrations/0012_headers_once.sql deletes the row with the delivery's last message row, on
 * every delete path.
 */
export const messageHeaders = sqliteTable(
  'message_headers',
  {
    packKey: text('pack_key').notNull(),
    rawOffset: integer('raw_offset').notNull(),
    headers: text('headers_json', { mode: 'json' }).$type<HeaderList>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.packKey, t.rawOffset] })],
)

/** Attachment bytes are stored once in R2 under their MD5; this row describes them. */
export const attachmentBlobs = sqliteTable('attachment_blobs', {
  md5: text('md5').primaryKey(),
  size: integer('size').notNull(),
  // Refreshed by every ingest that carries the blob, before its bytes are written, so a
  // concurrent delete never removes bytes an ingest in flight is about to reference.
  touched: integer('touched', { mode: 'timestamp_ms' }).notNull(),
})

/** How one message carries an attachment (names and content ids differ between messages). */
export const messageAttachments = sqliteTable(
  'message_attachments',
  {
    messageId: text('message_id')
      .notNull()
      .references(() => messages.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    md5: text('md5').notNull(),
    filename: text('filename'),
    contentType: text('content_type').notNull(),
    contentDisposition: text('content_disposition'),
    contentId: text('content_id'),
    // The part's Content-Transfer-Encoding as sent; null in rows stored before it was kept.
    transferEncoding: text('transfer_encoding'),
    size: integer('size').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.position] }),
    index('message_attachments_md5_idx').on(t.md5),
  ],
)

/**
 * Domains owned by an account: every address at them is private to it (a catch-all).
 * `sendingVerified` allows the account to send from the domain (outbound API).
 */
export const domains = sqliteTable(
  'domains',
  {
    domain: text('domain').primaryKey(),
    owner: text('owner')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    sendingVerified: integer('sending_verified', { mode: 'boolean' }).notNull().default(false),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
    // DNS verification (src/mail/domain-verification.ts), Mailsac's Domain fields. The token
    // is the TXT value the owner publishes; rows older than the column get one in the migration.
    verificationToken: text('verification_token').$defaultFn(() => randomString(32)),
    /** The TXT token was found at the last check. */
    verified: integer('verified', { mode: 'boolean' }).notNull().default(false),
    /** Every MX pointed at Cloudflare Email Routing at the last check. */
    verifiedMx: integer('verified_mx', { mode: 'boolean' }).notNull().default(false),
    /** What the last check found wrong, one problem a line; '' when nothing; null before one. */
    lastVerificationErrors: text('last_verification_errors'),
    lastVerified: integer('last_verified', { mode: 'timestamp_ms' }),
  },
  (t) => [index('domains_owner_idx').on(t.owner)],
)

/** Sender domains and client IPs whose mail is refused (Mailsac's "blacklist"). */
export const denylist = sqliteTable('denylist', {
  entry: text('entry').primaryKey(),
  reason: text('reason'),
  created: integer('created', { mode: 'timestamp_ms' }).notNull(),
})

/** Cookie sessions of the web pages; the cookie carries a token whose SHA-256 is `id`. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    account: text('account')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
    expires: integer('expires', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('sessions_account_idx').on(t.account)],
)

/**
 * One notification of one stored message (webhook, Slack webhook or forward), delivered
 * at least once through a Queue. `id` is the idempotency id receivers de-duplicate on.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    address: text('address').notNull(),
    // The account whose setting this delivery serves: its history is that account's alone,
    // whoever holds the address later. Null only for rows older than the column.
    account: text('account').references(() => accounts.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    kind: text('kind', { enum: ['webhook', 'slack', 'forward'] }).notNull(),
    target: text('target').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
    updated: integer('updated', { mode: 'timestamp_ms' }).notNull(),
    deliveredAt: integer('delivered_at', { mode: 'timestamp_ms' }),
    // When the job went onto the queue; null while it still must be (a failed sendBatch at
    // ingest leaves it so, and the cron sweep queues it again: nothing is lost to a queue blip).
    queuedAt: integer('queued_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    index('deliveries_address_created_idx').on(t.address, t.created),
    index('deliveries_unqueued_idx')
      .on(t.created)
      .where(sql`${t.queuedAt} is null`),
  ],
)

/** Mail sent through POST /api/outgoing-messages: what was sent and what became of it. */
export const outboundMessages = sqliteTable(
  'outbound_messages',
  {
    id: text('id').primaryKey(),
    account: text('account')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    messageIdHeader: text('message_id_header').notNull(),
    from: text('from_address').notNull(),
    recipients: text('recipients_json', { mode: 'json' }).$type<string[]>().notNull(),
    subject: text('subject').notNull().default(''),
    size: integer('size').notNull(),
    // Per recipient: where it went (local inbox id or relayed) or why it failed.
    outcome: text('outcome_json', { mode: 'json' }).$type<unknown[]>().notNull(),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('outbound_messages_account_created_idx').on(t.account, t.created)],
)

/**
 * Public inboxes someone follows live: the RealtimeHub of the inbox writes how many sockets it
 * holds before it tells a new socket it is listening, and again when one closes. Ingest reads
 * this in the D1 batch it already makes, so mail to the many inboxes nobody watches costs no
 * Durable Object request. A stale row (a hub gone without its close events) only costs an
 * unneeded publish.
 */
export const liveInboxes = sqliteTable('live_inboxes', {
  inbox: text('inbox').primaryKey(),
  sockets: integer('sockets').notNull(),
  updated: integer('updated', { mode: 'timestamp_ms' }).notNull(),
})

/**
 * Arrivals already stored, by idempotency key, so a sender's retry after a lost reply (the
 * bridge's 451 on a timeout, Email Routing retrying a temporary failure) stores nothing twice
 * and answers with the ids stored the first time. The key is written in the same D1 batch as
 * the message rows, so a key exists exactly when its rows were committed. Kept for
 * ARRIVAL_KEY_TTL_MS, longer than any sender retries.
 */
export const arrivalKeys = sqliteTable(
  'arrival_keys',
  {
    key: text('key').primaryKey(),
    messages: text('messages_json', { mode: 'json' })
      .$type<Array<{ _id: string; inbox: string }>>()
      .notNull(),
    created: integer('created', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('arrival_keys_created_idx').on(t.created)],
)

/**
 * SMTP fault rules set at runtime (#17.6, `PUT /internal/faults`): one row, id 1. Kept in D1
 * rather than isolate memory, which production isolates do not share; while the row exists
 * it replaces the SMTP_FAULTS var, and `DELETE /internal/faults` removes it.
 */
export const faultRules = sqliteTable('fault_rules', {
  id: integer('id').primaryKey(),
  rules: text('rules_json').notNull(),
  updated: integer('updated', { mode: 'timestamp_ms' }).notNull(),
})
