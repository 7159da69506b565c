import { describe, expect, it } from 'vitest'
import { parseSearchQuery, usesSearchSyntax, type SearchTerm } from '../../src/lib/search-query'
import { SEARCH_MAX_TERMS } from '../../src/limits'

function terms(input: string): SearchTerm[] {
  const parsed = parseSearchQuery(input)
  if (!parsed.ok) throw new Error(`expected ${input} to parse: ${parsed.message}`)
  return parsed.query.terms
}

function refusal(input: string): string {
  const parsed = parseSearchQuery(input)
  if (parsed.ok) throw new Error(`expected ${input} to be refused`)
  return parsed.message
}

describe('parseSearchQuery', () => {
  it('reads every operator', () => {
    expect(
      terms(
        'from:alice to:bob@example.com subject:code label:work has:attachment is:read is:unread is:starred',
      ),
    ).toEqual([
      { negated: false, kind: 'from', value: 'alice' },
      { negated: false, kind: 'to', value: 'bob@example.com' },
      { negated: false, kind: 'subject', value: 'code' },
      { negated: false, kind: 'label', value: 'work' },
      { negated: false, kind: 'hasAttachment' },
      { negated: false, kind: 'read' },
      { negated: false, kind: 'unread' },
      { negated: false, kind: 'starred' },
    ])
  })

  it('reads dates as midnight UTC and sizes in binary units', () => {
    expect(terms('after:2026-11-01 before:2026-12-01 larger:10k smaller:2M larger:500')).toEqual([
      { negated: false, kind: 'after', date: new Date('2026-11-01T00:00:00Z') },
      { negated: false, kind: 'before', date: new Date('2026-12-01T00:00:00Z') },
      { negated: false, kind: 'larger', bytes: 10 * 1024 },
      { negated: false, kind: 'smaller', bytes: 2 * 1024 * 1024 },
      { negated: false, kind: 'larger', bytes: 500 },
    ])
  })

  it('reads quoted phrases, quoted operator values, negation and bare words', () => {
    expect(terms('"your code" subject:"Reset password" -is:read -"do not reply" invoice')).toEqual([
      { negated: false, kind: 'text', value: 'your code' },
      { negated: false, kind: 'subject', value: 'Reset password' },
      { negated: true, kind: 'read' },
      { negated: true, kind: 'text', value: 'do not reply' },
      { negated: false, kind: 'text', value: 'invoice' },
    ])
  })

  it('takes operators and their keywords in any case, and quoting hides an operator', () => {
    expect(terms('FROM:Alice IS:Unread HAS:Attachment')).toEqual([
      { negated: false, kind: 'from', value: 'Alice' },
      { negated: false, kind: 'unread' },
      { negated: false, kind: 'hasAttachment' },
    ])
    expect(terms('"foo:bar" re:')).toEqual([
      { negated: false, kind: 'text', value: 'foo:bar' },
      { negated: false, kind: 'text', value: 're:' },
    ])
  })

  it('reads an empty or blank query as no terms', () => {
    expect(terms('')).toEqual([])
    expect(terms('   ')).toEqual([])
  })

  it('refuses malformed input with a message saying what is wrong', () => {
    expect(refusal('subject:"unclosed')).toMatch(/Unbalanced quote/)
    expect(refusal('"unclosed phrase')).toMatch(/Unbalanced quote/)
    expect(refusal('ab"cd')).toMatch(/Unbalanced quote/)
    expect(refusal('"a"b')).toMatch(/space after the closing quote/)
    expect(refusal('form:alice')).toMatch(/Unknown search operator "form:".*quote it: "form:alice"/)
    expect(refusal('http://example.com')).toMatch(/Unknown search operator "http:"/)
    expect(refusal('has:pdf')).toMatch(/has: knows only "attachment"/)
    expect(refusal('is:flagged')).toMatch(/is: knows read, unread and starred/)
    expect(refusal('after:2026/11/01')).toMatch(/after: wants a date as YYYY-MM-DD/)
    expect(refusal('before:2026-02-31')).toMatch(/before: wants a date/)
    expect(refusal('larger:big')).toMatch(/larger: wants a size/)
    expect(refusal('from: alice')).toMatch(/from: wants its value right after the colon/)
    expect(refusal('- alone')).toMatch(/Nothing after "-"/)
    expect(refusal('""')).toMatch(/empty phrase/)
    expect(refusal('subject:""')).toMatch(/subject: wants a value/)
  })

  it('bounds the number of terms and the length of a term', () => {
    expect(terms(Array(SEARCH_MAX_TERMS).fill('a').join(' '))).toHaveLength(SEARCH_MAX_TERMS)
    expect(
      refusal(
        Array(SEARCH_MAX_TERMS + 1)
          .fill('a')
          .join(' '),
      ),
    ).toMatch(/at most/)
    expect(refusal(`subject:${'x'.repeat(201)}`)).toMatch(/at most 200 characters/)
  })
})

describe('usesSearchSyntax', () => {
  it('is false for what Mailsac clients send as plain text', () => {
    expect(usesSearchSyntax('invoice')).toBe(false)
    expect(usesSearchSyntax('search@views')).toBe(false)
    expect(usesSearchSyntax('http://example.com re: 2026-11')).toBe(false)
  })

  it('is true for an operator, a quote or a negation', () => {
    expect(usesSearchSyntax('from:alice')).toBe(true)
    expect(usesSearchSyntax('Is:Unread')).toBe(true)
    expect(usesSearchSyntax('"a phrase"')).toBe(true)
    expect(usesSearchSyntax('invoice -paid')).toBe(true)
  })
})
