// A multipart/form-data body streamed around a message that may be a 25 MiB spool file.

/**
 * The parts of a multipart body in order, the message's bytes streamed as they come.
 * @param {Buffer} head
 * @param {Buffer | AsyncIterable<Uint8Array>} body
 * @param {Buffer} tail
 * @returns {AsyncIterable<Uint8Array>}
 */
export async function* multipartStream(head, body, tail) {
  yield head
  if (Buffer.isBuffer(body)) yield body
  else for await (const chunk of body) yield chunk
  yield tail
}
