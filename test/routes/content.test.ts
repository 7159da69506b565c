import { describe, expect, it } from 'vitest'
import fixture from '../fixtures/inline-and-attachment.eml?raw'
import { LOGO_PNG } from '../fixture-bytes'
import { call, ingest } from '../requests'

describe('content routes', () => {
  it('GET /api/body strips scripts, images and links', async () => {
    const [stored] = await ingest(fixture, ['body@example.com'])
    const response = await call(`/api/body/body@example.com/${stored._id}`)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await response.text()
    expect(html).toContain('<b>diary</b>')
    expect(html).toContain('link')
    expect(html).not.toMatch(/<script|<img|href=|pwned/)
  })

  it('GET /api/dirty keeps everything and inlines cid images as data URIs', async () => {
    const [stored] = await ingest(fixture, ['dirty@example.com'])
    const html = await (await call(`/api/dirty/dirty@example.com/${stored._id}`)).text()
    expect(html).toContain('<script>window.pwned=1</script>')
    expect(html).toContain('href="https://example.com/x"')
    const src = /<img src="data:image\/png;base64,([^"]+)"/.exec(html)?.[1]
    expect(src).toBeDefined()
    expect(Uint8Array.from(atob(src as string), (c) => c.charCodeAt(0))).toEqual(LOGO_PNG)
  })

  it('GET /api/text returns the text part as text/plain', async () => {
    const [stored] = await ingest(fixture, ['text@example.com'])
    const response = await call(`/api/text/text@example.com/${stored._id}`)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    expect((await response.text()).trim()).toBe('See the diary [logo]')
  })

  it('GET /api/raw returns the exact bytes', async () => {
    const [stored] = await ingest(fixture, ['raw@example.com'])
    const response = await call(`/api/raw/raw@example.com/${stored._id}`)
    expect(await response.text()).toBe(fixture)
    expect(response.headers.get('content-disposition')).toBeNull()
  })

  it('?download=1 sets Content-Disposition: attachment on all five routes', async () => {
    const [stored] = await ingest(fixture, ['download@example.com'])
    for (const kind of ['headers', 'body', 'dirty', 'text', 'raw']) {
      const response = await call(`/api/${kind}/download@example.com/${stored._id}?download=1`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-disposition'), kind).toMatch(/^attachment; filename="/)
    }
  })
})
