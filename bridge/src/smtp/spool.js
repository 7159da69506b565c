import { randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Holds one incoming message until its end of DATA, in memory while small and in a private
 * temporary file beyond that, so memory per session stays bounded whatever the message size.
 *
 * The message must be complete before it goes to the Worker: an HTTP upload that is cut short
 * without a Content-Length can look finished to the receiving end (wrangler dev stores the
 * truncated body), while one with an exact Content-Length that falls short is an error.
 */
export class MessageSpool {
  /** @param {{ memoryLimit: number, dir: string }} options */
  constructor({ memoryLimit, dir }) {
    this.memoryLimit = memoryLimit
    this.dir = dir
    /** @type {Buffer[]} */
    this.chunks = []
    this.length = 0
    /** @type {import('node:fs/promises').FileHandle | null} */
    this.file = null
    /** @type {string | null} */
    this.path = null
  }

  /** @param {Buffer} chunk */
  async write(chunk) {
    if (!this.file && this.length + chunk.length > this.memoryLimit) {
      this.path = join(this.dir, `bridge-spool-${randomUUID()}.eml`)
      // Private mail: readable by the bridge's user only; 'wx' refuses to follow a planted file.
      this.file = await open(this.path, 'wx', 0o600)
      for (const buffered of this.chunks) await this.file.write(buffered)
      this.chunks = []
    }
    if (this.file) await this.file.write(chunk)
    else this.chunks.push(chunk)
    this.length += chunk.length
  }

  /**
   * The spooled message, as many times as asked (an upload may be retried).
   * @returns {Promise<Buffer | import('node:fs').ReadStream>}
   */
  async body() {
    if (!this.file) return Buffer.concat(this.chunks, this.length)
    await this.file.sync().catch(() => {})
    return createReadStream(/** @type {string} */ (this.path))
  }

  async dispose() {
    this.chunks = []
    const { file, path } = this
    this.file = null
    this.path = null
    await file?.close().catch(() => {})
    if (path) await unlink(path).catch(() => {})
  }
}
