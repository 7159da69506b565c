/** Same cap as the Worker's MAX_MESSAGE_BYTES (Cloudflare Email Routing's limit), advertised in EHLO SIZE. */
export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024

/** The Worker stores one copy per recipient in one D1 batch and refuses more than this. */
export const MAX_RECIPIENTS = 100

/** POST /api/outgoing-messages takes at most 3 recipients (Mailsac's cap); refused at RCPT. */
export const SUBMISSION_MAX_RECIPIENTS = 3

/** Messages up to this size wait for their end of DATA in memory, larger ones in a spool file. */
export const SPOOL_MEMORY_BYTES = 256 * 1024

/** RFC 5321 4.5.3.1.4 allows 512 octets plus extension parameters; SMTPUTF8 addresses need room. */
export const SMTP_MAX_COMMAND_BYTES = 4096

/** RFC 5321 4.5.3.2.7: a server should wait at least 5 minutes for the next command. */
export const SMTP_IDLE_TIMEOUT_MS = 5 * 60 * 1000

/** RFC 1939 section 3: the autologout timer must be at least 10 minutes. */
export const POP3_IDLE_TIMEOUT_MS = 10 * 60 * 1000

/**
 * A session that has not logged in holds nothing to lose but a socket: like Dovecot ("no auth
 * attempts in 180 secs"), it goes sooner than RFC 1939's 10 minutes, so idle connections
 * can't pile up before authentication.
 */
export const POP3_LOGIN_TIMEOUT_MS = 180 * 1000

/** A failed login is answered this much later, which slows guessing a key over one connection. */
export const LOGIN_FAILURE_DELAY_MS = 1000

/** Failed logins one connection may make (POP3 and submission); the last one closes it. */
export const MAX_LOGIN_FAILURES = 3

/**
 * RFC 2449 section 4 caps commands at 255 octets, but a SASL PLAIN response carries a 64-char key
 * plus an address of up to 254 octets, base64 grown; anything longer is garbage or an attack.
 */
export const POP3_MAX_LINE_BYTES = 2048

/** Pipelined commands queued before reading pauses, so a client that never reads can't grow memory. */
export const POP3_MAX_QUEUED_COMMANDS = 64

/** Mailsac's largest list page; the login snapshot pages through the inbox at this size. */
export const LIST_PAGE_SIZE = 1000

/** A snapshot holds ~100 bytes per message; this bounds one session's memory to a few MB. */
export const MAX_SNAPSHOT_MESSAGES = 50_000

/** A Worker that neither answers nor fails within this is treated as down (SMTP 451, POP3 [SYS/TEMP]). */
export const WORKER_TIMEOUT_MS = 60 * 1000

/** SIGTERM/SIGINT: sessions in flight get this long to finish before their sockets are closed. */
export const SHUTDOWN_GRACE_MS = 10 * 1000

/** Messages one /internal/ingest/batch request carries at most (the Worker's own cap is 100). */
export const INGEST_BATCH_MAX_MESSAGES = 50

/** Bytes one batch carries at most: keeps each upload and the Worker's D1 transaction short. */
export const INGEST_BATCH_MAX_BYTES = 8 * 1024 * 1024

/**
 * Batches in flight at once; further messages wait and go together in the next batch. Two
 * fewer, fuller batches beat four small ones: the Worker's cost per batch is mostly fixed
 * round trips (measured with bench/bridge.mjs, 100 connections: ~370 vs ~280 msg/s).
 */
export const INGEST_BATCHES_IN_FLIGHT = 2

/**
 * While a batch is out, a new message waits this long for others to share its request: a
 * request costs the Worker the same round trips for one message as for fifty.
 */
export const INGEST_BATCH_GATHER_MS = 20

/** ...or until this many are waiting, which already make a batch worth sending. */
export const INGEST_BATCH_GATHER_MESSAGES = 50

/** Arrivals answered 451 whose retry may find them already stored (smtp/unsettled.js). */
export const UNSETTLED_KEYS_MAX = 100_000

/** RFC 5321 4.5.4.1: senders give up after 4-5 days; the Worker keeps keys for 7. */
export const UNSETTLED_KEY_TTL_MS = 5 * 24 * 60 * 60 * 1000
