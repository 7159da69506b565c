import { describe, expect, it } from 'vitest'
import { workerRefusalReply } from '../src/smtp/replies.js'
import { WorkerResponseError, WorkerUnavailableError } from '../src/worker-client.js'

/** @param {unknown} err */
const reply = (err) => {
  const { responseCode, message } = workerRefusalReply(err)
  return `${responseCode} ${message}`
}

describe('workerRefusalReply (one table for the ingest and submission listeners)', () => {
  it('asks the sender to retry when the Worker is down, timed out or rate-limiting', () => {
    const temporary = '451 4.3.0 Temporary failure storing the message, try again later'
    expect(reply(new WorkerUnavailableError('Worker unreachable: ECONNREFUSED'))).toBe(temporary)
    expect(reply(new Error('The operation was aborted due to timeout'))).toBe(temporary)
    expect(reply(new WorkerResponseError(429, 'rate_limited', 'Too many requests'))).toBe(temporary)
    expect(reply(new WorkerResponseError(408, 'timeout', 'Request timeout'))).toBe(temporary)
  })

  it("refuses permanently with the Worker's words and an RFC 3463 code", () => {
    expect(reply(new WorkerResponseError(413, 'too_large', 'Too big.'))).toBe('552 5.3.4 Too big.')
    expect(reply(new WorkerResponseError(403, 'forbidden', 'No.'))).toBe('550 5.7.1 No.')
    expect(reply(new WorkerResponseError(400, 'bad_request', 'Bad.'))).toBe('554 5.6.0 Bad.')
    expect(reply(new WorkerResponseError(402, 'payment', 'Buy.'))).toBe('554 5.0.0 Buy.')
  })

  it('keeps a Worker message to one printable line', () => {
    const evil = new WorkerResponseError(403, 'forbidden', 'a\r\n250 fake\u00e9')
    expect(reply(evil)).toBe('550 5.7.1 a 250 fake?')
  })
})
