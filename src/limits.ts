/** Cloudflare Email Routing refuses anything larger, so the bridge and the API match it. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024

/** Parsed headers are stored in a D1 row (2 MB cap per value); real mail stays far below. */
export const MAX_HEADERS_BYTES = 512 * 1024

/** Mailsac stores one message per RCPT; a bound keeps one delivery within one D1 batch. */
export const MAX_RECIPIENTS_PER_MESSAGE = 100

/** Default page size of message lists, as in Mailsac's OpenAPI document. */
export const DEFAULT_LIST_LIMIT = 20

/** Largest page of message lists, as in Mailsac's OpenAPI document. */
export const MAX_LIST_LIMIT = 1000

/** The full-message JSON inlines `raw` only up to this size; larger raws are fetched from /api/raw. */
export const MAX_INLINE_RAW_BYTES = 1024 * 1024

/** API keys: 64 alphanumeric characters, as Mailsac documents. */
export const API_KEY_LENGTH = 64

/** D1 binds at most 100 parameters per statement; deletes of many rows go in chunks under it. */
export const D1_MAX_BOUND_PARAMS = 100

/** Deliveries per POST /internal/ingest/batch: keeps one D1 transaction short. */
export const MAX_BATCH_MESSAGES = 100

/** Bytes per batch request: a batch never carries more than one message at its maximum. */
export const MAX_BATCH_BYTES = MAX_MESSAGE_BYTES + 1024 * 1024

/** Default page size of the mailstats lists, as in Mailsac's docs. */
export const DEFAULT_STATS_LIMIT = 20

/** Largest page of the mailstats lists, as in Mailsac's docs. */
export const MAX_STATS_LIMIT = 1000

/**
 * The window of a mailstats list called without startDate/endDate (the official client sends
 * none): longer than the default public retention (96 h), so it covers all public mail kept.
 */
export const MAILSTATS_DEFAULT_WINDOW_DAYS = 7

/** Public mail is deleted after this many hours unless `PUBLIC_RETENTION_HOURS` says otherwise. */
export const DEFAULT_PUBLIC_RETENTION_HOURS = 96

/** A public inbox keeps this many messages unless `PUBLIC_INBOX_MAX_MESSAGES` says otherwise. */
export const DEFAULT_PUBLIC_INBOX_MAX_MESSAGES = 100

/** Rows one retention statement deletes: keeps each D1 write and its `returning` small. */
export const RETENTION_DELETE_BATCH = 250

/**
 * Rows one cron run deletes at most. Releasing storage costs D1 queries in chunks of 100 keys,
 * so a run stays under about 50 D1 queries (the Free plan's per-invocation limit) and well
 * within one scheduled invocation's CPU time; a backlog drains over the next runs (every 5
 * minutes: 288,000 rows a day).
 */
export const RETENTION_MAX_DELETES_PER_RUN = 1000

/** Public inboxes over their cap trimmed per run (one D1 statement each, in one batch). */
export const RETENTION_MAX_INBOXES_PER_RUN = 50

/**
 * An inbox only passes its cap by receiving mail, so the cap is checked on inboxes that
 * received mail this recently: reading recent rows instead of the whole table every run. Two
 * hours covers two dozen missed 5-minute runs.
 */
export const RETENTION_CAP_LOOKBACK_MS = 2 * 60 * 60 * 1000

/** Messages one statement deletes when an account or a domain is removed. */
export const OWNERSHIP_DELETE_BATCH = 250

/**
 * Messages one account or domain removal deletes per request: keeps the request within D1's
 * per-invocation query budget (each round is a delete plus the storage release's queries). A
 * larger removal answers 503 "call again", and the CLI repeats it.
 */
export const OWNERSHIP_MAX_DELETES_PER_CALL = 2500

/** Orphan attachment blobs (no message references them) removed per run. */
export const RETENTION_MAX_ORPHAN_BLOBS_PER_RUN = 500

/**
 * Requests per `API_RATE_LIMIT_PERIOD_SECONDS` per API key: enough for a CI suite polling
 * several inboxes a second. Must match `[[ratelimits]] API_KEY_RATE_LIMIT` in wrangler.toml
 * (the binding's limit is deploy-time configuration; a test checks the two agree).
 */
export const API_KEY_RATE_LIMIT = 1200

/**
 * Requests per period per client IP (an IPv6 client per /64) without an API key. Must match
 * `[[ratelimits]] ANONYMOUS_RATE_LIMIT` in wrangler.toml.
 */
export const ANONYMOUS_RATE_LIMIT = 600

/** The Rate Limiting binding counts in windows of 10 or 60 seconds; we use 60. */
export const API_RATE_LIMIT_PERIOD_SECONDS = 60

/**
 * A websocket frame carries the full message (bodies and raw) up to this many bytes; above it
 * the frame carries the metadata and headers only, with `truncated: true`, and the client
 * fetches the rest over REST. Keeps a burst of large mail from stalling slow subscribers and
 * from holding megabytes per message in a Durable Object's memory.
 */
export const MAX_WS_FRAME_BYTES = 1024 * 1024

/**
 * Addresses and domains one websocket may subscribe to: the list is kept in the socket's
 * hibernation attachment, which must stay small (2 KiB).
 */
export const MAX_WS_SUBSCRIPTIONS = 20

/** A webhook receiver that has not answered within this long counts as a failed attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000

/** First retry delay of a failed webhook, Slack post or forward; doubled after each attempt. */
export const DELIVERY_RETRY_BASE_SECONDS = 60

/** Queues caps `message.retry({ delaySeconds })` at 12 hours. */
export const DELIVERY_RETRY_MAX_DELAY_SECONDS = 12 * 60 * 60

/**
 * Attempts per delivery before it is dead-lettered. With delays of 60 s doubling up to the
 * 12-hour cap, attempt 12 comes about 29 hours after the first: more than a day of retries.
 * Must be `max_retries + 1` of the deliveries consumer in wrangler.toml.
 */
export const DELIVERY_MAX_ATTEMPTS = 12

/**
 * A pending delivery that has not reached the queue this long after it was recorded is queued
 * again by the cron sweep (its sendBatch at ingest failed). Far above an ingest's own latency.
 */
export const DELIVERY_REQUEUE_AFTER_MS = 2 * 60 * 1000

/** Stranded deliveries the sweep queues per cron run (one sendBatch of 100 per slice). */
export const DELIVERY_REQUEUE_PER_RUN = 500

/**
 * How long an arrival's idempotency key is remembered: a sender retrying after a 451 or a
 * lost reply gets the ids stored the first time. RFC 5321 4.5.4.1 suggests giving up after
 * 4-5 days; a week covers that.
 */
export const ARRIVAL_KEY_TTL_MS = 7 * 24 * 60 * 60 * 1000

/** A webhook request's timestamp older than this is a replay (documented for receivers). */
export const WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = 5 * 60

/** Mailsac caps `to` of POST /api/outgoing-messages at 3 recipients (one credit each). */
export const MAX_OUTGOING_RECIPIENTS = 3

/**
 * mimetext writes the Subject as a single base64 encoded-word: 700 UTF-8 bytes keep that
 * header line under RFC 5322's 998-character limit.
 */
export const MAX_OUTGOING_SUBJECT_BYTES = 700

/** Display names are encoded the same way, one encoded-word per address: same reasoning. */
export const MAX_OUTGOING_NAME_BYTES = 300

/** RFC 5322 2.1.1 caps a header line at 998 characters; longer address fields are refused unparsed. */
export const MAX_HEADER_FIELD_CHARS = 998

/** Each `received` entry becomes one header field; folded lines must stay under 998 too. */
export const MAX_RECEIVED_HEADERS = 50

/** Links stored per message (`links`): the JSON column must stay far below D1's 2 MB row. */
export const MAX_MESSAGE_LINKS = 100

/** Longer links are dropped, not cut: a cut link is a wrong link (and browsers cap ~2 KB). */
export const MAX_LINK_CHARS = 2048

/** One-time codes stored per message (`codes`), most likely first. */
export const MAX_MESSAGE_CODES = 10

/** Body characters scanned for links and codes: bounds ingest CPU on huge bodies. */
export const MAX_EXTRACT_SCAN_CHARS = 512 * 1024

/** GET /api/addresses/:email/wait: how long a request is held by default, and at most. */
export const WAIT_DEFAULT_TIMEOUT_SECONDS = 30
export const WAIT_MAX_TIMEOUT_SECONDS = 60

/** Matches one wait can ask for (`count`); each is a full message in the response. */
export const WAIT_MAX_COUNT = 50

/** Wait `regex`: the pattern's length and the input it runs on, bounding backtracking cost. */
export const WAIT_MAX_REGEX_CHARS = 200
export const WAIT_REGEX_INPUT_CHARS = 64 * 1024

/** Messages of an inbox a wait (or latest) examines per query, newest first. */
export const WAIT_SCAN_MESSAGES = 200

/**
 * Attachments per message: each is one R2 write (a subrequest: 1,000 per invocation on
 * Workers Paid, 50 on Free) and one D1 row; beyond this a message is refused permanently.
 */
export const MAX_ATTACHMENTS_PER_MESSAGE = 100

/**
 * Attachments per ingest call: each costs an R2 check and maybe a write (subrequests, 1,000
 * per invocation on Workers Paid). Arrivals past it are answered 503 `batch-full` and the
 * bridge sends them again in its next batch; the first arrival of a call always fits.
 */
export const MAX_ATTACHMENTS_PER_BATCH = 300

/**
 * Addresses of one To/Cc/Bcc header kept in a message row: a 50,000-address To: would pass
 * D1's 2 MB row. The full list stays in `headers` and the raw message.
 */
export const MAX_STORED_RECIPIENTS_PER_FIELD = 1000

/**
 * Statements per D1 batch. D1 names no count, but a batch is one transaction bounded by its
 * 30-second query limit (https://developers.cloudflare.com/d1/platform/limits/); this budget
 * of ours keeps each one short. An arrival is never split across two batches.
 */
export const D1_MAX_STATEMENTS_PER_BATCH = 1000

/**
 * Outgoing fetches one queue invocation holds at once: Workers allow 6 simultaneous
 * connections per invocation and queue the 7th, whose timeout keeps running
 * (https://developers.cloudflare.com/workers/platform/limits/).
 */
export const MAX_OUTGOING_CONNECTIONS = 6

/**
 * Attachment blobs one ingest writes to R2 at once, beside its pack: a message may carry
 * MAX_ATTACHMENTS_PER_MESSAGE of them, each write holding its stream's buffers until R2 has it
 * (25 set-aside parts written at once grew workerd by 129 MB), and the pack plus these stay
 * under the 6 simultaneous connections.
 */
export const ATTACHMENT_WRITES_AT_ONCE = 4

/** Search (`?q=`, inbox-search): terms per query, each costing a few of D1's 100 bound parameters. */
export const SEARCH_MAX_TERMS = 12

/** Search: characters of one term's value, so one query cannot make every row compare a page. */
export const SEARCH_MAX_TERM_CHARS = 200

/** Search: characters of the text body kept (lower-cased) in D1 for plain words; bodies are in R2. */
export const SEARCH_TEXT_CHARS = 4096

/** DNS-over-HTTPS: how long one lookup may take before the answer counts as unknown. */
export const DNS_TIMEOUT_MS = 3000

/** DNS answers kept per isolate (src/mail/dns.ts), so a burst of validations cannot grow memory. */
export const DNS_CACHE_ENTRIES = 1000

/** Longest a DNS answer is kept, whatever its TTL, so a fixed MX is seen within the hour. */
export const DNS_CACHE_MAX_SECONDS = 3600

/** The cron checks a domain's DNS again once its last check is this old: a broken MX shows within a day. */
export const DOMAIN_RECHECK_INTERVAL_HOURS = 24

/**
 * Domains one cron re-check run looks up: 2 DoH fetches and at most 2 D1 queries each, plus 1 to
 * find them, is 41, under Workers Free's 50 subrequests per invocation even if D1 counted there.
 */
export const DOMAIN_RECHECK_MAX_PER_RUN = 10

/** Domains checked at once by the cron: 2 lookups each stay under 6 simultaneous connections. */
export const DOMAIN_RECHECK_CONCURRENCY = 2

/** Addresses per POST /api/validations/addresses, as Mailsac's OpenAPI document says. */
export const MAX_VALIDATIONS_PER_REQUEST = 50

/**
 * Characters kept (stored and served) of the text and of the HTML body: the parser holds a
 * body several times over, so a 25 MiB one whole would not fit a 128 MB isolate.
 */
export const MAX_STORED_BODY_CHARS = 1024 * 1024

/**
 * Bytes of text/plain, and again of text/html, handed to the parser, counted decoded (a base64
 * part's encoded bytes count three quarters): an eighth more than MAX_STORED_BODY_CHARS, so
 * ASCII and base64 bodies still fill what is stored (a quoted-printable or multi-byte one may
 * keep somewhat fewer characters, and says `truncated`). It is a budget across the message's
 * parts of that type, not per part: twelve bodies each just under a per-part cap of 2 MiB grew
 * workerd by 306 MB (bench/memory.mjs `text parts`), 112–117 MB with this budget.
 */
export const MAX_PARSED_TEXT_PART_BYTES = 1.125 * MAX_STORED_BODY_CHARS

/**
 * Encoded bytes of one attachment part (base64, quoted-printable or unencoded) handed to the
 * parser; larger ones are decoded outside it in chunks, straight into R2: the parser holds one
 * about 3 times.
 */
export const MAX_PARSED_ATTACHMENT_PART_BYTES = 1024 * 1024

/**
 * Encoded bytes of all attachment parts handed to the parser together: past it, every further
 * part is set aside whatever its size, so many parts each under the per-part size cannot add up
 * (25 parts of 1 MiB grew workerd by 134 MB before this cap, 102–119 MB with it).
 */
export const MAX_PARSED_ATTACHMENT_BYTES = 2 * MAX_PARSED_ATTACHMENT_PART_BYTES

/**
 * How long an isolate reuses the runtime fault rules (#17.6) for email(): a D1 read per routed
 * message would slow ingest for a test setting that changes rarely; the bridge waits as long.
 */
export const FAULT_RULES_TTL_MS = 5_000
