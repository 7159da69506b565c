/**
 * Decodes a SASL PLAIN response (RFC 4616: message = [authzid] NUL authcid NUL passwd).
 * @param {string} encoded the base64 the client sent
 * @returns {{ authzid: string, authcid: string, password: string } | 'invalid-base64' | 'malformed'}
 */
export function decodeSaslPlain(encoded) {
  // Node's decoder skips characters outside the alphabet; checking first keeps garbage from
  // decoding into something that happens to look like credentials.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return 'invalid-base64'
  const parts = Buffer.from(encoded, 'base64').toString('utf8').split('\0')
  if (parts.length !== 3) return 'malformed'
  const [authzid, authcid, password] = parts
  return { authzid, authcid, password }
}
