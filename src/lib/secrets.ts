/**
 * Compares two secrets in constant time, so how long a comparison takes tells an attacker
 * nothing about how much of a guess was right. Different lengths are unequal at once: the
 * length of our secrets is public (64-character keys, fixed-size tokens and hashes).
 */
export function sameSecret(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a)
  const right = new TextEncoder().encode(b)
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right)
}
