import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../../src/index'
import { ADMIN, INGEST, json, simpleMessage } from '../../requests'

async function deny(entry: string, reason?: string) {
  return json(`/internal/admin/denylist/${encodeURIComponent(entry)}`, {
    method: 'PUT',
    headers: { ...ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ reason }),
  })
}

async function rowCount(inbox: string): Promise<number> {
  const row = await env.DB.prepare('select count(*) as n from messages where inbox = ?')
    .bind(inbox)
    .first<{ n: number }>()
  return row?.n ?? 0
}

function ingestRequest(to: string, from: string, ip?: string) {
  const query = new URLSearchParams({ from, to, ...(ip ? { ip } : {}) })
  return json(
    `/internal/ingest?${query}`,
    { method: 'POST', headers: INGEST, body: simpleMessage({ to }) },
    403,
  )
}

describe('deny-list enforcement at POST /internal/ingest', () => {
  it('refuses mail from a listed sender domain and its subdomains with the reason', async () => {
    await deny('spammer.example', 'phishing campaign')
    const refused = await ingestRequest('victim1@example.com', 'bad@spammer.example')
    expect(refused).toMatchObject({
      error: 'Forbidden',
      message: expect.stringMatching(/phishing/),
    })
    await ingestRequest('victim1@example.com', 'Bad@Mail.Spammer.Example')
    expect(await rowCount('victim1@example.com')).toBe(0)
  })

  it('refuses mail from a listed client IP, also written IPv4-mapped', async () => {
    await deny('198.51.100.23')
    const refused = await ingestRequest('victim2@example.com', 'ok@fine.example', '198.51.100.23')
    expect(refused.message).toMatch(/198\.51\.100\.23/)
    await ingestRequest('victim2@example.com', 'ok@fine.example', '::ffff:198.51.100.23')
    expect(await rowCount('victim2@example.com')).toBe(0)
  })

  it('still accepts other senders, and accepts again once the entry is removed', async () => {
    await deny('gone.example')
    await ingestRequest('victim3@example.com', 'x@gone.example')
    await json('/internal/ingest?from=x@notgone.example&to=victim3@example.com', {
      method: 'POST',
      headers: INGEST,
      body: simpleMessage(),
    })
    await json('/internal/admin/denylist/gone.example', { method: 'DELETE', headers: ADMIN })
    await json('/internal/ingest?from=x@gone.example&to=victim3@example.com', {
      method: 'POST',
      headers: INGEST,
      body: simpleMessage(),
    })
    expect(await rowCount('victim3@example.com')).toBe(2)
  })

  it('refuses only the denied deliveries of a batch', async () => {
    await deny('batchspam.example')
    const form = new FormData()
    for (const from of ['a@batchspam.example', 'b@good.example']) {
      form.append('envelope', JSON.stringify({ from, to: ['batch@example.com'] }))
      form.append('message', new Blob([simpleMessage()]), 'm.eml')
    }
    const { results } = await json('/internal/ingest/batch', {
      method: 'POST',
      headers: INGEST,
      body: form,
    })
    expect(results[0]).toMatchObject({ status: 403, message: expect.stringMatching(/batchspam/) })
    expect(results[1].messages).toHaveLength(1)
    expect(await rowCount('batch@example.com')).toBe(1)
  })
})

describe('deny-list enforcement in email() (Email Routing)', () => {
  it('rejects mail from a listed sender domain with setReject and stores nothing', async () => {
    await deny('routed-spam.example', 'abuse')
    const rejections: string[] = []
    const raw = new TextEncoder().encode(simpleMessage({ to: 'routed@example.com' }))
    const message = {
      from: 'someone@routed-spam.example',
      to: 'routed@example.com',
      raw: new Response(raw).body,
      rawSize: raw.byteLength,
      headers: new Headers(),
      setReject: (reason: string) => void rejections.push(reason),
    } as unknown as ForwardableEmailMessage
    await worker.email(message, env)
    expect(rejections).toEqual([expect.stringMatching(/routed-spam\.example.*abuse/)])
    expect(await rowCount('routed@example.com')).toBe(0)
  })
})

describe('/internal/admin/denylist', () => {
  it('lists, adds (updating the reason), and removes entries behind ADMIN_TOKEN', async () => {
    await json('/internal/admin/denylist', {}, 401)
    const added = await deny('Admin-Test.example', 'first')
    expect(added).toMatchObject({ entry: 'admin-test.example', reason: 'first' })
    expect((await deny('admin-test.example', 'second')).reason).toBe('second')
    const { entries } = await json('/internal/admin/denylist', { headers: ADMIN })
    expect(entries).toContainEqual(
      expect.objectContaining({ entry: 'admin-test.example', reason: 'second' }),
    )
    await json('/internal/admin/denylist/admin-test.example', { method: 'DELETE', headers: ADMIN })
    await json(
      '/internal/admin/denylist/admin-test.example',
      { method: 'DELETE', headers: ADMIN },
      404,
    )
    await json('/internal/admin/denylist/not%20valid', { method: 'PUT', headers: ADMIN }, 400)
  })
})
