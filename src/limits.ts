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
