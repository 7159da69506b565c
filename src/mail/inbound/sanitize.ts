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

/**
 * CSS functions an inline style may call: colours and arithmetic, none of which can name a
 * resource. Every other function (url, image-set, image, cross-fade, src, expression, paint,
 * ...) could load one, and a list of those would miss the next; so a style calling anything
 * else is dropped whole.
 */
const STYLE_FUNCTIONS = new Set(['rgb', 'rgba', 'hsl', 'hsla', 'calc', 'min', 'max', 'clamp'])

/**
 * Whether an inline style could load a resource or run code. Escapes (`u\72 l(`), HTML
 * character references (`u&#114;l(`, which the browser decodes before the CSS parser runs) and
 * comments can spell any name, so a style carrying `\`, `&` or `/*` is refused before its
 * functions are read; so are at-rules and the old script hooks. One pass over the text.
 */
function unsafeStyle(style: string): boolean {
  if (/[\\&@]|\/\*|javascript:|behavior\s*:|-moz-binding/i.test(style)) return true
  for (let open = style.indexOf('('); open !== -1; open = style.indexOf('(', open + 1)) {
    let start = open
    while (start > 0 && /[\w-]/.test(style[start - 1])) start--
    if (!STYLE_FUNCTIONS.has(style.slice(start, open).toLowerCase())) return true
  }
  return false
}

/**
 * What the web page's HTML tab additionally keeps, for a message to look as its sender meant:
 * images, links and `<style>` sheets. Still no script, handler, frame, form or base. The tab
 * renders it in a sandboxed iframe whose CSP forbids scripts and any load but images, so
 * what CSS could fetch is bounded by that policy rather than by this filter.
 */
const DISPLAY_KEEPS = new Set(['img', 'style'])

/** URLs an image may load from in the HTML tab: inline parts and web images. */
const DISPLAY_IMAGE_URL = /^(?:cid:|https?:|data:image\/(?:png|gif|jpe?g|webp);)/i
/** Link targets in the HTML tab; javascript:, data: and the rest are dropped. */
const DISPLAY_LINK_URL = /^(?:https?:|mailto:)/i

/**
 * `body`: Mailsac's "cleaned HTML body" (no images, no links). `display`: the web page's HTML
 * tab, which keeps images and links (see DISPLAY_KEEPS).
 */
export type SanitizeMode = 'body' | 'display'

/** Returns the sanitized form of an HTML body. */
export async function sanitizeHtml(html: string, mode: SanitizeMode = 'body'): Promise<string> {
  if (!html) return ''
  const display = mode === 'display'
  const rewriter = new HTMLRewriter()
    .on('*', {
      element(element) {
        const tag = element.tagName.toLowerCase()
        const kept = KEEP.has(tag) || (display && DISPLAY_KEEPS.has(tag))
        if (DROP_WITH_CONTENT.has(tag) && !kept) {
          element.remove()
          return
        }
        if (!kept) {
          element.removeAndKeepContent()
          return
        }
        for (const [name, value] of [...element.attributes]) {
          const keep =
            (KEEP_ATTRIBUTES.has(name) && !(name === 'style' && unsafeStyle(value))) ||
            (display && displayUrl(tag, name, value.trim()))
          if (!keep) element.removeAttribute(name)
        }
        if (display && tag === 'a' && element.hasAttribute('href')) {
          // Links leave the sandboxed frame for a new tab, never navigate the frame itself.
          element.setAttribute('target', '_blank')
          element.setAttribute('rel', 'noopener noreferrer')
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

function displayUrl(tag: string, name: string, value: string): boolean {
  if (tag === 'img' && name === 'src') return DISPLAY_IMAGE_URL.test(value)
  if (tag === 'a' && name === 'href') return DISPLAY_LINK_URL.test(value)
  return false
}
