const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 }

/**
 * @typedef {{ debug: LogFn, info: LogFn, warn: LogFn, error: LogFn }} Logger
 * @typedef {(message: string, fields?: Record<string, unknown>) => void} LogFn
 */

/**
 * One JSON object per line on stderr, so log collectors parse it and stdout stays free.
 * @param {keyof typeof LEVELS} level lowest level written
 * @param {Record<string, unknown>} [base] fields added to every entry
 * @returns {Logger}
 */
export function createLogger(level, base = {}) {
  const threshold = LEVELS[level]
  /** @param {keyof typeof LEVELS} entryLevel */
  const write = (entryLevel) => /** @type {LogFn} */ (message, fields) => {
    if (LEVELS[entryLevel] < threshold) return
    // `message` last, so a field of that name can never overwrite the entry's text.
    const entry = { time: new Date().toISOString(), level: entryLevel, ...base, ...fields, message }
    process.stderr.write(JSON.stringify(entry, errorReplacer) + '\n')
  }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}

/** @param {string} _key @param {unknown} value */
function errorReplacer(_key, value) {
  if (value instanceof Error) {
    const { code } = /** @type {NodeJS.ErrnoException} */ (value)
    return { name: value.name, message: value.message, code }
  }
  return value
}
