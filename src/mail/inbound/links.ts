// The links of a message (Mailsac's `links`), found once at ingest. Text bodies go through
// linkify-it, a maintained link finder (URLs end at the right parenthesis, trailing
// punctuation is not part of them, ...); HTML bodies are walked with the platform's
// HTMLRewriter for `<a href>`, whose anchor text is kept too: "Verify my email" says more
// about a link than its tracking-redirect URL does (see codes.ts).

import LinkifyIt from 'linkify-it'
import { MAX_EXTRACT_SCAN_CHARS, MAX_LINK_CHARS, MAX_MESSAGE_LINKS } from '../../limits'

/** A link of the HTML body with the text a reader clicks on. */
export type Anchor = { href: string; text: string }

/** What the HTML body says, for the link and code finders. */
export type HtmlReading = { anchors: Anchor[]; text: string }

// Only links with a scheme: a fuzzy "example.com" in a footer is prose, not a link to follow.
const linkify = new LinkifyIt({}, { fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false })

const WEB_LINK = /^https?:\/\//i

/** Elements whose text a reader never sees. */
const HIDDEN = new Set(['script', 'style', 'head', 'title', 'template', 'noscript'])

/** Elements after which rendered text breaks a line, so words of two cells do not merge. */
const BLOCK =
  /^(?:p|div|br|tr|td|th|li|h[1-6]|table|section|article|header|footer|blockquote|center|hr)$/

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
}

/** HTMLRewriter hands attributes and text over undecoded; `&amp;` in an href is common. */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : +name.slice(1)
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity
  })
}

/** Runs `handler` at the element's end tag; void and self-closed elements have none. */
function onEnd(element: Element, handler: () => unknown) {
  try {
    element.onEndTag(() => void handler())
  } catch {
    // No end tag: the element ends where it starts.
  }
}

/** Reads the anchors and the visible text of an HTML body (its first MAX_EXTRACT_SCAN_CHARS). */
export async function readHtml(html: string): Promise<HtmlReading> {
  const reading: HtmlReading = { anchors: [], text: '' }
  if (!html) return reading
  const chunks: string[] = []
  let hidden = 0
  let anchor: Anchor | null = null
  const rewriter = new HTMLRewriter()
    .on('*', {
      element(element) {
        const tag = element.tagName.toLowerCase()
        if (HIDDEN.has(tag)) {
          hidden++
          onEnd(element, () => hidden--)
          return
        }
        if (BLOCK.test(tag)) {
          chunks.push('\n')
          if (tag !== 'br' && tag !== 'hr') onEnd(element, () => chunks.push('\n'))
        }
        if (tag === 'a') {
          const href = decodeEntities(element.getAttribute('href')?.trim() ?? '')
          const current: Anchor = { href, text: '' }
          anchor = current
          if (href) reading.anchors.push(current)
          onEnd(element, () => (anchor = null))
        }
      },
    })
    // On the document, not on '*': each text chunk once, not once per enclosing element.
    .onDocument({
      text(chunk) {
        if (hidden > 0) return
        const text = decodeEntities(chunk.text)
        chunks.push(text)
        if (anchor) anchor.text += text
      },
    })
  await rewriter.transform(new Response(html.slice(0, MAX_EXTRACT_SCAN_CHARS))).text()
  for (const a of reading.anchors) a.text = a.text.replace(/\s+/g, ' ').trim()
  reading.text = chunks
    .join('')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n[\n ]*/g, '\n')
    .trim()
  return reading
}

/** The web links of a text, in order. */
export function textLinks(text: string): string[] {
  return (linkify.match(text.slice(0, MAX_EXTRACT_SCAN_CHARS)) ?? []).map((match) => match.url)
}

/**
 * Every web link of the text body, then those of the HTML body's anchors not already seen:
 * de-duplicated, in order, at most MAX_MESSAGE_LINKS, none longer than MAX_LINK_CHARS.
 */
export function messageLinks(text: string, html: HtmlReading): string[] {
  const links = new Set<string>()
  for (const link of [...textLinks(text), ...html.anchors.map((a) => a.href)]) {
    if (links.size >= MAX_MESSAGE_LINKS) break
    if (WEB_LINK.test(link) && link.length <= MAX_LINK_CHARS) links.add(link)
  }
  return [...links]
}
