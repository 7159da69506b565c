const BASE = 'https://same-origin.invalid'

/**
 * `next` as a path on this site, or `fallback`. Browsers read `/\evil.example` and
 * `/<TAB>/evil.example` as `//evil.example` (the URL standard turns `\` into `/` and drops tabs
 * and newlines), so a prefix check on the raw text is not enough: the path is resolved the way
 * a browser would resolve it, and only a result on our own origin is kept, re-serialised.
 */
export function sameOriginPath(next: string | undefined, fallback: string): string {
  if (!next || !next.startsWith('/')) return fallback
  let url: URL
  try {
    url = new URL(next, BASE)
  } catch {
    return fallback
  }
  const path = url.pathname + url.search + url.hash
  // `/.//evil.example` resolves to the path `//evil.example`, itself protocol-relative.
  if (url.origin !== BASE || path.startsWith('//')) return fallback
  return path
}
