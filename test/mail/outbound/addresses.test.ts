import { describe, expect, it } from 'vitest'
import { splitNameAddress } from '../../../src/mail/outbound/addresses'

describe('splitNameAddress', () => {
  it('#13.6 splits name and address like the old regex did, in one pass', () => {
    expect(splitNameAddress('a@x.test')).toEqual({ address: 'a@x.test', name: '' })
    expect(splitNameAddress('  Jo Doe <a@x.test> ')).toEqual({
      address: 'a@x.test',
      name: 'Jo Doe',
    })
    expect(splitNameAddress('"Doe, \\"J\\"" <a@x.test>')).toEqual({
      address: 'a@x.test',
      name: 'Doe, "J"',
    })
    expect(splitNameAddress('<a@x.test>')).toEqual({ address: 'a@x.test', name: '' })
    // Not `name <address>`: taken whole, so normalisation refuses it.
    for (const input of ['"a" b <a@x.test>', 'a < b <a@x.test>', '"open <a@x.test>', 'x>']) {
      expect(splitNameAddress(input)).toEqual({ address: input, name: '' })
    }
  })

  it('#13.6 handles 100,000 spaces without backtracking (a linear scan)', () => {
    // The old regex needed about 10^15 steps here; a linear scan answers at once.
    const input = ' '.repeat(100_000) + 'x'
    expect(splitNameAddress(input)).toEqual({ address: input, name: '' })
    const nearly = ' '.repeat(100_000) + '<a@x.test'
    expect(splitNameAddress(nearly)).toEqual({ address: nearly, name: '' })
  })
})
