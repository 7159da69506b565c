import { describe, expect, it } from 'vitest'
import { sanitizeHtml } from '../../src/mail/sanitize'

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

  it('unwraps unknown elements but keeps their text, and drops comments and forms', async () => {
    const html = await sanitizeHtml(
      '<custom-el>text</custom-el><!--[if mso]><b>x</b><![endif]--><form><input></form>',
    )
    expect(html).toBe('text')
  })
})
