import { describe, expect, it } from 'vitest'
import { sanitizeHtml } from '../../../src/mail/inbound/sanitize'

describe('sanitizeHtml', () => {
  it('removes scripts, event handlers, images, iframes and javascript: links', async () => {
    const html = await sanitizeHtml(
      '<div onclick="x()">Hi <img src=x onerror="alert(1)"><script>alert(2)</script>' +
        '<iframe srcdoc="<script>alert(3)</script>"></iframe>' +
        '<a href="javascript:alert(4)">click</a><svg onload="alert(5)"><circle/></svg></div>',
    )
    expect(html).toBe('<div>Hi <a>click</a></div>')
  })

  it('keeps presentational markup and safe inline styles, drops styles that load things', async () => {
    const html = await sanitizeHtml(
      '<table border="1"><tr><td style="color: red" class="c">a</td>' +
        '<td style="background:url(https://t.example/p.gif)">b</td></tr></table>',
    )
    expect(html).toBe(
      '<table border="1"><tr><td style="color: red" class="c">a</td><td>b</td></tr></table>',
    )
  })

  it('#13.13 leaves no remote URL in a style attribute, however it is spelled', async () => {
    // DOMPurify / OWASP-style vectors: CSS escapes, character references, comments, functions
    // other than url().
    const vectors = [
      "background-image: image-set('https://t.example/a.png' 1x)",
      'background-image: -webkit-image-set(url(https://t.example/a.png) 1x)',
      'background: u\\72 l(https://t.example/a.png)',
      'background: \\75 rl(https://t.example/a.png)',
      'background: u&#114;l(https://t.example/a.png)',
      'background: u&#x72;l(https://t.example/a.png)',
      'background: url&lpar;https://t.example/a.png)',
      'background: URL(https://t.example/a.png)',
      'background: image("https://t.example/a.png")',
      'background: cross-fade(url(https://t.example/a.png), red)',
      'list-style: src("https://t.example/a.png")',
      'width: expression(alert(1))',
      'behavior: url(x.htc)',
      'background: u/**/rl(https://t.example/a.png)',
      '@import "https://t.example/a.css"',
      '--x: url(https://t.example/a.png); background: var(--x)',
    ]
    for (const style of vectors) {
      const html = await sanitizeHtml(`<p style="${style.replace(/"/g, '&quot;')}">x</p>`)
      expect(html, style).toBe('<p>x</p>')
    }
    const safe = 'color: rgb(1, 2, 3); width: calc(100% - 2px); font-family: Arial, sans-serif'
    expect(await sanitizeHtml(`<p style="${safe}">x</p>`)).toBe(`<p style="${safe}">x</p>`)
  })

  it('unwraps unknown elements but keeps their text, and drops comments and forms', async () => {
    const html = await sanitizeHtml(
      '<custom-el>text</custom-el><!--[if mso]><b>x</b><![endif]--><form><input></form>',
    )
    expect(html).toBe('text')
  })

  describe("display mode (the web page's HTML tab)", () => {
    it('keeps images with safe sources, links with new-tab targets and style sheets', async () => {
      const html = await sanitizeHtml(
        '<style>p{color:red}</style><p><img src="cid:logo@x" alt="l"><img src="https://i.example/a.png">' +
          '<a href="https://example.com/x">web</a><a href="mailto:a@example.com">mail</a></p>',
        'display',
      )
      expect(html).toBe(
        '<style>p{color:red}</style><p><img src="cid:logo@x" alt="l"><img src="https://i.example/a.png">' +
          '<a href="https://example.com/x" target="_blank" rel="noopener noreferrer">web</a>' +
          '<a href="mailto:a@example.com" target="_blank" rel="noopener noreferrer">mail</a></p>',
      )
    })

    it('still drops scripts, handlers, frames, forms and script or data URLs', async () => {
      const html = await sanitizeHtml(
        '<p><img src="x" onerror="window.top.pwned=1"><img src="javascript:alert(1)">' +
          '<img src="data:text/html;base64,PHNjcmlwdD4=">' +
          '<a href="javascript:alert(2)" onclick="alert(3)">j</a><script>window.pwned=1</script>' +
          '<iframe src="https://e.example"></iframe><form action="https://e.example"><input></form>' +
          '<base href="https://evil.example/"></p>',
        'display',
      )
      expect(html).toBe('<p><img><img><img><a>j</a></p>')
    })
  })
})
