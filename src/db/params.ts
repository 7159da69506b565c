import { D1_MAX_BOUND_PARAMS } from '../limits'
import { chunks } from '../lib/chunks'

/**
 * `items` in slices that fit one D1 statement, each item binding `perItem` parameters beside
 * `fixed` others (D1 binds at most 100 per statement:
 * https://developers.cloudflare.com/d1/platform/limits/).
 */
export function byBoundParams<T>(items: readonly T[], perItem: number, fixed = 0): T[][] {
  return chunks(items, Math.floor((D1_MAX_BOUND_PARAMS - fixed) / perItem))
}
