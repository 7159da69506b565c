// The wire contract between the Worker and the bridge: the limits both sides must agree on,
// the one address normalisation (the bridge's POP3 lock and the REST API must name an inbox
// alike), and the Queue settings the Worker's retry arithmetic assumes. Each side keeps its
// own copy (the bridge is plain Node, the Worker is bundled by wrangler); this fails when they
// drift.
import { describe, expect, it } from 'vitest'
import * as bridgeAddress from '../../bridge/src/address.js'
import * as bridgeFaults from '../../bridge/src/smtp/faults.js'
import * as bridge from '../../bridge/src/limits.js'
import { normalizeAddress } from '../../src/lib/address'
import { domainOf, pickFault, type FaultRule } from '../../src/mail/faults'
import * as worker from '../../src/limits'
import { ARRIVAL_KEY } from '../../src/mail/inbound/idempotency'
import { BATCH_FULL } from '../../src/mail/inbound/ingest'
import { BATCH_FULL as BRIDGE_BATCH_FULL } from '../../bridge/src/smtp/batcher.js'
import wranglerToml from '../../wrangler.toml?raw'

describe('the bridge and the Worker agree', () => {
  it('on message size, recipients and batch bounds', () => {
    expect(bridge.MAX_MESSAGE_BYTES).toBe(worker.MAX_MESSAGE_BYTES)
    expect(bridge.MAX_RECIPIENTS).toBe(worker.MAX_RECIPIENTS_PER_MESSAGE)
    expect(bridge.SUBMISSION_MAX_RECIPIENTS).toBe(worker.MAX_OUTGOING_RECIPIENTS)
    expect(bridge.INGEST_BATCH_MAX_MESSAGES).toBeLessThanOrEqual(worker.MAX_BATCH_MESSAGES)
    expect(bridge.INGEST_BATCH_MAX_BYTES).toBeLessThanOrEqual(worker.MAX_BATCH_BYTES)
    expect(bridge.LIST_PAGE_SIZE).toBeLessThanOrEqual(worker.MAX_LIST_LIMIT)
    // #14.3: what a full batch left out is sent again, not answered 451.
    expect(BRIDGE_BATCH_FULL).toBe(BATCH_FULL)
  })

  it('on how long an arrival may be retried and still be recognised', () => {
    expect(bridge.UNSETTLED_KEY_TTL_MS).toBeLessThanOrEqual(worker.ARRIVAL_KEY_TTL_MS)
    // The bridge's key (hex SHA-256) is what the ingest routes validate.
    expect('ab'.repeat(32)).toMatch(ARRIVAL_KEY)
  })

  it('on address normalisation', () => {
    const inputs = [
      'a@x.com',
      '<A@X.com>',
      '  Mixed.Case+Tag@Example.ORG ',
      '< spaced@x.com >',
      'no-at-sign',
      'a..b@x.com',
      'two@@x.com',
      'ünïcode@exämple.com',
      `${'l'.repeat(64)}@x.com`,
      `${'l'.repeat(65)}@x.com`,
      'a@' + 'b'.repeat(63) + '.com',
      '',
    ]
    for (const input of inputs) {
      expect(bridgeAddress.normalizeAddress(input), input).toBe(normalizeAddress(input))
    }
  })

  it('on the deliveries queue: DELIVERY_MAX_ATTEMPTS is max_retries + 1', () => {
    const consumer = wranglerToml.slice(wranglerToml.indexOf('[[queues.consumers]]'))
    const maxRetries = Number(/max_retries\s*=\s*(\d+)/.exec(consumer)?.[1])
    expect(maxRetries + 1).toBe(worker.DELIVERY_MAX_ATTEMPTS)
  })

  it('on which SMTP fault rule fires (#17.6: the bridge applies the rules the Worker validated)', () => {
    const rules: FaultRule[] = [
      { stage: 'mail', code: 421, probability: 1, domain: 'sender.example' },
      { stage: 'rcpt', code: 550, probability: 0, domain: 'never.example' },
      { stage: 'rcpt', code: 450, probability: 0.5, domain: 'flaky.example' },
      { stage: 'data', code: 554, probability: 1 },
    ]
    const cases: [FaultRule['stage'], string[], number][] = [
      ['mail', ['sender.example'], 0.9],
      ['mail', ['other.example'], 0],
      ['rcpt', ['never.example'], 0],
      ['rcpt', ['a.FLAKY.example'], 0.4],
      ['rcpt', ['a.flaky.example'], 0.6],
      ['rcpt', ['unflaky.example'], 0],
      ['data', ['x.example', 'y.example'], 0.99],
    ]
    for (const [stage, domains, dice] of cases) {
      const random = () => dice
      expect(bridgeFaults.pickFault(rules, stage, domains, random), `${stage} ${domains}`).toEqual(
        pickFault(rules, stage, domains, random),
      )
    }
    for (const address of ['a@B.Example', 'nobody', 'x@y@z.example']) {
      expect(bridgeFaults.domainOf(address)).toBe(domainOf(address))
    }
  })
})
