// The "cleaned HTML body" of Mailsac's `body` field and /api/body: scripts, images and links
// stripped. Built on the platform's HTMLRewriter (a real HTML tokenizer) with an allowlist,
// because a denylist always misses the next trick (onerror=, javascript:, srcdoc=, ...).

/** Elements removed together with everything inside them. */
const DROP_WITH_CONTENT = new Set([
  'script',
  'style',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'noscript',
  'template',
  'svg',
  'math',
  'img',
  'image',
  'picture',
  'video',
  'audio',
  'source',
  'track',
  'canvas',
  'map',
  'area',
  'base',
  'link',
  'meta',
  'title',
  'head',
  'form',
  'input',
  'button',
  'select',
  'textarea',
  'option',
  'portal',
  'xmp',
  'plaintext',
  'noembed',
  'noframes',
])

/** Elements kept (without links or event handlers); anything else is unwrapped. */
const KEEP = new Set([
  'a',
  'abbr',
  'address',
  'article',
  'aside',
  'b',
  'bdi',
  'bdo',
  'big',
  'blockquote',
  'br',
  'caption',
  'center',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'details',
  'dfn',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'font',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'i',
  'ins',
  'kbd',
  'li',
  'main',
  'mark',
  'nav',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'samp',
  'section',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'summary',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'time',
  'tr',
  'tt',
  'u',
  'ul',
  'var',
  'wbr',
])

/** Presentational attributes; everything else (on*, href, src, srcset, action, ...) goes. */
const KEEP_ATTRIBUTES = new Set([
  'align',
  'alt',
  'bgcolor',
  'border',
  'cellpadding',
  'cellspacing',
  'class',
  'color',
  'colspan',
  'dir',
  'face',
  'height',
  'lang',
  'rowspan',
  'size',
  'style',
  'title',
  'valign',
  'width',
])

/** Inline styles that could load a resource or run code. */
const UNSAFE_STYLE = /url\s*\(|expression\s*\(|@import|javascript:|behavior\s*:|-moz-binding/i

/** Returns the sanitized form of an HTML body. */
export async function sanitizeHtml(html: string): Promise<string> {
  if (!html) return ''
  const rewriter = new HTMLRewriter()
    .on('*', {
      element(element) {
        const tag = element.tagName.toLowerCase()
        if (DROP_WITH_CONTENT.has(tag)) {
          element.remove()
          return
        }
        if (!KEEP.has(tag)) {
          element.removeAndKeepContent()
          return
        }
        for (const [name, value] of [...element.attributes]) {
          const keep = KEEP_ATTRIBUTES.has(name) && !(name === 'style' && UNSAFE_STYLE.test(value))
          if (!keep) element.removeAttribute(name)
        }
      },
    })
    .onDocument({
      comments(comment) {
        // Conditional comments (<!--[if mso]>) can carry markup that older clients render.
        comment.remove()
      },
    })
  return rewriter.transform(new Response(html)).text()
}
