/**
 * Reads a body stream into one buffer of exactly its size, allocated once when the size is
 * known (Content-Length, Email Routing's rawSize). `arrayBuffer()` on a 25 MiB body grows a
 * buffer as the bytes arrive and then copies it into the JavaScript heap, which holds the
 * message two or three times over in a 128 MB isolate. Returns null when the body holds more
 * than `limit` bytes.
 */
export async function readBody(
  stream: ReadableStream<Uint8Array> | null,
  expected: number,
  limit: number,
): Promise<Uint8Array | null> {
  if (!stream) return new Uint8Array(0)
  let bytes = new Uint8Array(expected > 0 && expected <= limit ? expected : 64 * 1024)
  let filled = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (filled + value.byteLength > limit) {
      await reader.cancel()
      return null
    }
    if (filled + value.byteLength > bytes.byteLength) {
      const grown = new Uint8Array(
        Math.min(limit, Math.max(filled + value.byteLength, bytes.byteLength * 2)),
      )
      grown.set(bytes.subarray(0, filled))
      bytes = grown
    }
    bytes.set(value, filled)
    filled += value.byteLength
  }
  // A view would make the parser copy it: the buffer is trimmed to the bytes read instead.
  return filled === bytes.byteLength ? bytes : bytes.slice(0, filled)
}
