// Cloudflare's production limits that the emulator does not enforce (STYLE habit 11), each
// cited from the page that defines it. The harness in ./limits.ts fails a test that passes one.

export type Plan = 'free' | 'paid'

/** https://developers.cloudflare.com/d1/platform/limits/ */
export const D1 = {
  /** "Maximum bound parameters per query: 100" */
  boundParameters: 100,
  /** "Maximum string, BLOB or table row size: 2,000,000 bytes (2 MB)" */
  valueOrRowBytes: 2_000_000,
  /** "Maximum SQL statement length: 100,000 bytes (100 KB)" */
  statementBytes: 100_000,
  /** "Queries per Worker invocation (read subrequest limits): 1000 (Workers Paid) / 50 (Free)" */
  queriesPerInvocation: { free: 50, paid: 1000 } satisfies Record<Plan, number>,
  /**
   * D1 names no count of statements per `batch()`: a batch is one transaction and one query,
   * bounded by "Maximum SQL query duration: 30 seconds". We hold a batch to 1,000 statements
   * (a few hundred milliseconds of inserts), far below that, as a budget of our own.
   */
  statementsPerBatch: 1000,
} as const

/** https://developers.cloudflare.com/workers/platform/limits/ */
export const WORKERS = {
  /**
   * "Subrequests: 50/request (Free), 10,000/request (Paid)" (Paid was 1,000 until 2026);
   * R2 and Queues calls count too.
   */
  subrequestsPerInvocation: { free: 50, paid: 10_000 } satisfies Record<Plan, number>,
  /** "Simultaneous outgoing connections/request: 6" (a 7th waits, and its timeout runs). */
  simultaneousConnections: 6,
  /** "URLs have a limit of 16 KB." */
  urlBytes: 16 * 1024,
  /** "Memory: 128 MB" per isolate. */
  memoryBytes: 128 * 1024 * 1024,
  /** "Worker size: 3 MB (Free) / 10 MB (Paid)", measured after compression (gzip). */
  compressedScriptBytes: { free: 3 * 1024 * 1024, paid: 10 * 1024 * 1024 },
} as const

/** https://developers.cloudflare.com/queues/platform/limits/ (1 KB is 1000 bytes there). */
export const QUEUES = {
  /** "Message size: 128 KB" */
  messageBytes: 128_000,
  /** "Maximum messages per sendBatch call: 100 (or 256KB in total)" */
  messagesPerSendBatch: 100,
  sendBatchBytes: 256_000,
} as const

/** https://developers.cloudflare.com/r2/platform/limits/ */
export const R2 = {
  /** "Maximum upload size: 5 GiB (single-part)", less 5 MiB. */
  singlePutBytes: 5 * 1024 ** 3 - 5 * 1024 ** 2,
  /** "Object key length: 1,024 bytes" */
  keyBytes: 1024,
  /** R2Bucket.delete() takes "up to 1000 keys" (Workers API reference for R2). */
  keysPerDelete: 1000,
} as const

/** https://developers.cloudflare.com/email-service/platform/limits/ */
export const EMAIL_SERVICE = {
  /** "Recipients (to, cc, bcc): 50 per email" */
  recipientsPerMessage: 50,
  /** "Total message size: 5 MiB ... 25 MiB for verified addresses only" */
  messageBytes: 25 * 1024 * 1024,
} as const
