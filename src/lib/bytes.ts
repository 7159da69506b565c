/** Lower-case hex of a byte array. */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let hex = ''
  for (const byte of view) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/** Standard base64 of a byte array. */
export function toBase64(bytes: Uint8Array): string {
  // btoa takes a binary string; building it in slices keeps the argument list bounded.
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

/** Hex SHA-256 of a string (UTF-8) or bytes. */
export async function sha256Hex(input: string | Uint8Array): Promise<string> {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input
  return toHex(await crypto.subtle.digest('SHA-256', bytes))
}
