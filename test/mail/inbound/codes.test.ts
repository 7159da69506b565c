import { describe, expect, it } from 'vitest'
import { findActionLink, findCodes } from '../../../src/mail/inbound/codes'
import { messageLinks, readHtml, textLinks } from '../../../src/mail/inbound/links'
import { MAX_LINK_CHARS, MAX_MESSAGE_LINKS } from '../../../src/limits'

/** What ingest stores for a message with these bodies. */
async function extract(text: string, html = '', subject = '') {
  const reading = await readHtml(html)
  const links = messageLinks(text, reading)
  return {
    links,
    codes: findCodes(`${subject}\n${text}`, reading.text),
    actionLink: findActionLink(links, reading.anchors),
  }
}

const SIGN_UP_TEXT = `Hi Ada,

Welcome to Acme! Your verification code is:

    482913

It expires in 10 minutes. If you did not sign up, ignore this email.

Questions? Call us at +1 (555) 201-7788 or reply to this email.
Acme Inc, 1200 Market Street, Suite 2026, San Francisco, CA 94107
© 2026 Acme Inc. Order #55512 ships soon.`

const MAGIC_LINK_HTML = `<!doctype html><html><head><title>Sign in</title>
<style>.btn{color:red}</style></head><body>
<table><tr><td><a href="https://acme.example/">Acme</a></td></tr>
<tr><td><p>Click the button below to sign in to your account.</p>
<a class="btn" href="https://links.acme.example/ls/click?upn=a1B2&amp;token=zz9">Sign in to Acme</a>
<p>Or paste this link: https://acme.example/auth/magic?token=8f3k2&amp;redirect=%2Fhome</p>
</td></tr>
<tr><td><a href="https://acme.example/blog">Blog</a> · <a href="https://acme.example/help">Help</a>
<a href="mailto:support@acme.example">Email us</a>
<a href="https://acme.example/unsubscribe?u=77&amp;list=news">Unsubscribe</a></td></tr>
</table></body></html>`

const RESET_TEXT = `We received a request to reset the password for your account (account no. 20931).

Reset your password: https://app.example.com/password/reset/9a8b7c6d?email=ada%40example.com

This link is valid until 2026-12-01 18:00 UTC. Need help? https://app.example.com/support
Unsubscribe: https://app.example.com/unsubscribe/abc`

describe('links (#16.1)', () => {
  it('finds the links of the text body with linkify-it, without trailing punctuation', () => {
    expect(
      textLinks('See https://example.org/a?b=1. Or (https://example.org/c) and example.net.'),
    ).toEqual(['https://example.org/a?b=1', 'https://example.org/c'])
  })

  it('takes the text links first, then the HTML anchors not seen, de-duplicated, web links only', async () => {
    const { links } = await extract(
      'Visit https://acme.example/auth/magic?token=8f3k2&redirect=%2Fhome now',
      MAGIC_LINK_HTML,
    )
    expect(links).toEqual([
      'https://acme.example/auth/magic?token=8f3k2&redirect=%2Fhome',
      'https://acme.example/',
      'https://links.acme.example/ls/click?upn=a1B2&token=zz9',
      'https://acme.example/blog',
      'https://acme.example/help',
      'https://acme.example/unsubscribe?u=77&list=news',
    ])
  })

  it(`keeps at most ${MAX_MESSAGE_LINKS} links and drops those over ${MAX_LINK_CHARS} characters`, async () => {
    const long = `https://example.org/${'a'.repeat(MAX_LINK_CHARS)}`
    const many = Array.from({ length: 150 }, (_, i) => `https://example.org/${i}`)
    const { links } = await extract(`${long}\n${many.join('\n')}`)
    expect(links).toHaveLength(MAX_MESSAGE_LINKS)
    expect(links[0]).toBe('https://example.org/0')
  })

  it('reads the visible text of HTML, not its styles or title', async () => {
    const reading = await readHtml(MAGIC_LINK_HTML)
    expect(reading.text).toContain('Click the button below to sign in')
    expect(reading.text).not.toContain('.btn')
    expect(reading.anchors.find((a) => a.text === 'Sign in to Acme')?.href).toBe(
      'https://links.acme.example/ls/click?upn=a1B2&token=zz9',
    )
  })
})

describe('codes and the action link (#17.2)', () => {
  it('ranks the 6-digit code of a sign-up email above years, phone numbers, ZIP and order numbers', async () => {
    const { codes, actionLink } = await extract(SIGN_UP_TEXT, '', 'Your Acme verification code')
    expect(codes[0]).toBe('482913')
    for (const wrong of ['2026', '94107', '55512', '5552017788', '201', '7788', '1200']) {
      expect(codes).not.toContain(wrong)
    }
    expect(actionLink).toBeNull()
  })

  it('finds a code in an HTML-only email and a short alphanumeric token', async () => {
    const html =
      '<p>Your one-time passcode</p><p style="font-size:32px"><b>7Q4K9X</b></p><p>Sent 2026</p>'
    expect((await extract('', html)).codes).toEqual(['7Q4K9X'])
    const text = 'Use PIN 4721 to confirm the transfer of $1,250.00 on 12/01/2026.'
    expect((await extract(text)).codes).toEqual(['4721'])
  })

  it('reads "123-456" as the code 123456', async () => {
    expect((await extract('Your login code: 123-456')).codes).toEqual(['123456'])
  })

  it('picks the magic sign-in link over the footer, help and unsubscribe links', async () => {
    const { actionLink, codes } = await extract('', MAGIC_LINK_HTML)
    // The button's anchor text says "Sign in" although its URL is a tracking redirect.
    expect(actionLink).toBe('https://links.acme.example/ls/click?upn=a1B2&token=zz9')
    expect(codes).toEqual([])
  })

  it('picks the reset link of a password reset email and finds no code in it', async () => {
    const { actionLink, codes, links } = await extract(RESET_TEXT)
    expect(actionLink).toBe(
      'https://app.example.com/password/reset/9a8b7c6d?email=ada%40example.com',
    )
    expect(links).toHaveLength(3)
    expect(codes).not.toContain('20931')
    expect(codes).not.toContain('2026')
  })

  it('has no code and no action link for a newsletter', async () => {
    const text =
      'Our 2026 catalogue is out: 1500 new items. https://shop.example/catalogue\n© 2026 Shop'
    expect(await extract(text)).toEqual({
      links: ['https://shop.example/catalogue'],
      codes: [],
      actionLink: null,
    })
  })
  it('ranks the same way on a line of its own whatever the length of the body around it', () => {
    // The code finder looks at most a few hundred characters around a candidate for its line
    // and binary-searches the code words (#14: a body full of codes was quadratic).
    const noise = 'Your code is 111111. '.repeat(2000)
    const alone = findCodes(`${noise}\n\n  654321  \n\n${noise}`, '')
    expect(alone[0]).toBe('654321')
    const longLine = findCodes(`${'=- '.repeat(300)} 777777 ${'=- '.repeat(300)}`, '')
    // Not alone (the line is longer than the look-around) and far from any code word.
    expect(longLine).toEqual([])
    expect(findCodes(`${'x'.repeat(5000)} Your PIN: 4321 ${'y'.repeat(5000)}`, '')).toEqual([
      '4321',
    ])
  })
})
