import { describe, expect, it } from 'vitest'
import { domainOf, normalizeAddress, normalizeDomain } from '../../src/lib/address'

describe('normalizeAddress', () => {
  it('trims, strips one pair of angle brackets and lower-cases', () => {
    expect(normalizeAddress('  <Alice@Example.COM> ')).toBe('alice@example.com')
  })

  it('keeps plus-addressing as its own inbox, as Mailsac does', () => {
    expect(normalizeAddress('a+tag@x.com')).toBe('a+tag@x.com')
  })

  it('refuses what is not an address', () => {
    for (const input of [
      '',
      'no-at-sign',
      'two@@x.com',
      'a..b@x.com',
      'a b@x.com',
      `${'l'.repeat(65)}@x.com`,
    ]) {
      expect(normalizeAddress(input), input).toBeNull()
    }
  })

  it('names the domain of a normalised address', () => {
    expect(domainOf('someone@mail.example.org')).toBe('mail.example.org')
  })
})

describe('normalizeDomain', () => {
  it('accepts LDH names, lower-cased, without a trailing dot', () => {
    expect(normalizeDomain('Mail.Example.COM.')).toBe('mail.example.com')
    expect(normalizeDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example')
  })

  it('refuses single labels, hyphen-edged labels, long labels and other characters', () => {
    for (const input of [
      'localhost',
      '-a.example',
      'a-.example',
      `${'a'.repeat(64)}.example`,
      'a_b.example',
      'exa mple.com',
      'a..example',
    ]) {
      expect(normalizeDomain(input), input).toBeNull()
    }
  })
})
