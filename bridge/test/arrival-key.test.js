import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { arrivalKey, arrivalKeyHash } from '../src/smtp/arrival-key.js'

describe('arrivalKey (the idempotency key of an SMTP transaction)', () => {
  const message = Buffer.from('Subject: hi\r\n\r\nbody\r\n')

  it('is hex SHA-256 over from NUL recipients-by-LF NUL the bytes as sent', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('a@x.example\0b@y.example\nc@y.example\0'), message]))
      .digest('hex')
    expect(arrivalKey('a@x.example', ['b@y.example', 'c@y.example'], message)).toBe(expected)
  })

  it('is the same whether the bytes come whole or in chunks, and changes with any field', () => {
    const whole = arrivalKey('', ['b@y.example'], message)
    const hash = arrivalKeyHash('', ['b@y.example'])
    for (let i = 0; i < message.length; i += 5) hash.update(message.subarray(i, i + 5))
    expect(hash.digest('hex')).toBe(whole)
    expect(arrivalKey('x@y.example', ['b@y.example'], message)).not.toBe(whole)
    expect(arrivalKey('', ['b@y.example', 'c@y.example'], message)).not.toBe(whole)
    expect(arrivalKey('', ['b@y.example'], Buffer.from('other'))).not.toBe(whole)
  })
})
