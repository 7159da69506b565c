import { describe, expect, it } from 'vitest'
import { call, INGEST, json, simpleMessage } from '../../requests'
import { MAX_BATCH_BYTES, MAX_MESSAGE_BYTES } from '../../../src/limits'

function batch(items: { to: string[]; raw: string }[]) {
  const form = new FormData()
  for (const item of items) {
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to: item.to, ip: '192.0.2.1' }))
    form.append('message', new Blob([item.raw]), 'message.eml')
  }
  return call('/internal/ingest/batch', { method: 'POST', headers: INGEST, body: form })
}

describe('POST /internal/ingest/batch', () => {
  it('stores every delivery and answers per delivery, in order', async () => {
    const response = await batch([
      { to: ['batch-a@example.com'], raw: simpleMessage({ subject: 'first' }) },
      {
        to: ['batch-b@example.com', 'batch-c@example.com'],
        raw: simpleMessage({ subject: 'second' }),
      },
    ])
    expect(response.status).toBe(200)
    const { results } = await response.json<any>()
    expect(results.map((r: any) => r.messages.map((m: any) => m.inbox))).toEqual([
      ['batch-a@example.com'],
      ['batch-b@example.com', 'batch-c@example.com'],
    ])
    const [a] = await json('/api/addresses/batch-a@example.com/messages')
    expect(a).toMatchObject({ subject: 'first', ip: '192.0.2.1' })
    const raw = await call(`/api/raw/batch-c@example.com/${results[1].messages[1]._id}`)
    expect(await raw.text()).toContain('Subject: second')
    // Each delivery's bytes are its own, even when stored side by side.
    const rawA = await call(`/api/raw/batch-a@example.com/${results[0].messages[0]._id}`)
    expect(await rawA.text()).not.toContain('Subject: second')
  })

  it('refuses one bad delivery without refusing the others', async () => {
    const response = await batch([
      { to: ['not an address'], raw: simpleMessage() },
      { to: ['batch-ok@example.com'], raw: simpleMessage() },
    ])
    const { results } = await response.json<any>()
    expect(results[0]).toMatchObject({
      status: 400,
      message: expect.stringContaining('not an address'),
    })
    expect(results[1].messages).toHaveLength(1)
  })

  it('answers 400 when envelopes and messages do not pair up', async () => {
    const form = new FormData()
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to: ['x@example.com'] }))
    const response = await call('/internal/ingest/batch', {
      method: 'POST',
      headers: INGEST,
      body: form,
    })
    expect(response.status).toBe(400)
    expect((await response.json<any>()).message).toMatch(/envelope/)
  })
})

describe('POST /internal/ingest as a form (the bridge single ingest)', () => {
  /** A text message of exactly `size` bytes. */
  function messageOf(size: number) {
    const head = simpleMessage({ subject: 'at the limit', body: '' })
    const line = 'x'.repeat(998) + '\r\n'
    const fill = size - head.length
    const body = line.repeat(Math.floor(fill / line.length)) + 'y'.repeat(fill % line.length)
    return new TextEncoder().encode(head + body)
  }
  function single(raw: Uint8Array, to: string) {
    const form = new FormData()
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to: [to] }))
    form.append('message', new Blob([raw]), 'message.eml')
    return call('/internal/ingest', { method: 'POST', headers: INGEST, body: form })
  }

  it('stores a message of exactly MAX_MESSAGE_BYTES: the envelope and part headers do not count (#14.2)', async () => {
    const raw = messageOf(MAX_MESSAGE_BYTES)
    expect(raw.byteLength).toBe(MAX_MESSAGE_BYTES)
    const response = await single(raw, 'form-limit@example.com')
    expect(response.status).toBe(200)
    const { messages } = await response.json<any>()
    const stored = await call(`/api/raw/form-limit@example.com/${messages[0]._id}`)
    expect((await stored.arrayBuffer()).byteLength).toBe(MAX_MESSAGE_BYTES)
  })

  it('refuses a message one byte over with 413', async () => {
    const response = await single(messageOf(MAX_MESSAGE_BYTES + 1), 'form-over@example.com')
    expect(response.status).toBe(413)
    expect((await response.json<any>()).message).toMatch(/byte limit/)
  })
})

describe('a form sent without a Content-Length (chunked)', () => {
  /** The bytes of a form, sent as a stream in 64 KiB pieces, so no length is declared. */
  async function chunked(form: FormData, path: string) {
    const probe = new Request('http://x/', { method: 'POST', body: form })
    const type = probe.headers.get('content-type')!
    const bytes = new Uint8Array(await probe.arrayBuffer())
    let at = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= bytes.byteLength) return controller.close()
        controller.enqueue(bytes.slice(at, at + 65536))
        at += 65536
      },
    })
    const request = new Request(`http://mail.test${path}`, {
      method: 'POST',
      headers: { ...INGEST, 'Content-Type': type },
      body,
    })
    expect(request.headers.get('content-length')).toBeNull()
    return call(path, { method: 'POST', headers: request.headers, body: request.body })
  }

  it('stores a small one, read within the limit (#14.2)', async () => {
    const form = new FormData()
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to: ['chunk@example.com'] }))
    form.append('message', new Blob([simpleMessage({ to: 'chunk@example.com' })]), 'm.eml')
    const response = await chunked(form, '/internal/ingest/batch')
    expect(response.status).toBe(200)
    const { results } = await response.json<any>()
    expect(results[0].messages[0].inbox).toBe('chunk@example.com')
  })

  it('refuses one over the batch limit with 413 before parsing it (#14.2)', async () => {
    const form = new FormData()
    form.append('envelope', JSON.stringify({ from: 'a@example.org', to: ['big@example.com'] }))
    form.append('message', new Blob([new Uint8Array(MAX_BATCH_BYTES + 1)]), 'm.eml')
    const response = await chunked(form, '/internal/ingest')
    expect(response.status).toBe(413)
    expect((await response.json<any>()).message).toMatch(/at most/)
  })
})
