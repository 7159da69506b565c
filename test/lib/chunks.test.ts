import { describe, expect, it } from 'vitest'
import { chunks } from '../../src/lib/chunks'
import { byBoundParams } from '../../src/db/params'
import { D1_MAX_BOUND_PARAMS } from '../../src/limits'

describe('chunks', () => {
  it('slices in order, the last slice shorter', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(chunks([], 3)).toEqual([])
  })

  it('refuses a size below 1', () => {
    expect(() => chunks([1], 0)).toThrow(RangeError)
  })
})

describe('byBoundParams', () => {
  it('keeps every statement within D1’s bound parameters', () => {
    const items = Array.from({ length: 250 }, (_, i) => i)
    for (const [perItem, fixed] of [
      [1, 0],
      [3, 0],
      [4, 1],
      [1, 10],
    ]) {
      const slices = byBoundParams(items, perItem, fixed)
      expect(slices.flat()).toEqual(items)
      for (const slice of slices)
        expect(slice.length * perItem + fixed).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMS)
    }
  })
})
