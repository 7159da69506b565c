// The exact attachment bytes inside test/fixtures/inline-and-attachment.eml, rebuilt here
// independently of the parser so downloads and MD5s can be checked against them.
export const LOGO_PNG = Uint8Array.from(
  atob(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  ),
  (char) => char.charCodeAt(0),
)

export const DIARY_PDF = new Uint8Array([
  ...new TextEncoder().encode('%PDF-1.4\n% fake pdf for tests\n'),
  ...Array.from({ length: 256 }, (_, i) => i),
])

export async function md5(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('MD5', bytes))
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}
