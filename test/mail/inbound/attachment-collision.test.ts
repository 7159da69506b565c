import { describe, expect, it } from 'vitest'
import { COLLIDING_A, COLLIDING_B, COLLISION_MD5 } from '../../fixtures/md5-collision'
import { mimeMessage } from '../../mail-builders'
import { call, createAccount, INGEST, json, reserve } from '../../requests'

const file = (bytes: Uint8Array) => ({
  name: 'contract.bin',
  type: 'application/octet-stream',
  bytes,
})

async function ingestRaw(raw: Uint8Array, to: string) {
  return call(`/internal/ingest?from=sender@example.org&to=${to}`, {
    method: 'POST',
    headers: INGEST,
    body: raw,
  })
}

async function attachmentBytes(inbox: string, id: string, headers: Record<string, string> = {}) {
  const response = await call(
    `/api/addresses/${inbox}/messages/${id}/attachments/${COLLISION_MD5}`,
    {
      headers,
    },
  )
  expect(response.status).toBe(200)
  return new Uint8Array(await response.arrayBuffer())
}

describe('#13.5 an MD5 collision never replaces a stored attachment', () => {
  it('refuses a message whose attachment collides, and the private message keeps its bytes', async () => {
    const owner = await createAccount()
    await reserve('vault@collision.example', owner.apiKey)
    const first = await ingestRaw(
      mimeMessage({ to: 'vault@collision.example', files: [file(COLLIDING_A)] }),
      'vault@collision.example',
    )
    expect(first.status).toBe(200)
    const [{ _id }] = ((await first.json()) as { messages: { _id: string }[] }).messages

    const attack = await ingestRaw(
      mimeMessage({ to: 'anyone@collision.example', files: [file(COLLIDING_B)] }),
      'anyone@collision.example',
    )
    expect(attack.status).toBe(400)
    expect(await attack.json()).toMatchObject({ message: expect.stringMatching(/collision/) })

    expect(await attachmentBytes('vault@collision.example', _id, owner.headers)).toEqual(
      COLLIDING_A,
    )
    expect(await json('/api/addresses/anyone@collision.example/messages')).toEqual([])
  })

  it('refuses the later of two colliding attachments in one batch', async () => {
    const form = new FormData()
    for (const [to, bytes] of [
      ['one@batch-collision.example', COLLIDING_A],
      ['two@batch-collision.example', COLLIDING_B],
    ] as const) {
      form.append('envelope', JSON.stringify({ from: 'sender@example.org', to: [to] }))
      form.append('message', new Blob([mimeMessage({ to, files: [file(bytes)] })]), 'm.eml')
    }
    const { results } = await json<{
      results: Array<{ messages?: { _id: string }[]; status?: number }>
    }>('/internal/ingest/batch', { method: 'POST', headers: INGEST, body: form })
    expect(results[1]).toMatchObject({ status: 400 })
    const id = results[0].messages?.[0]._id as string
    expect(await attachmentBytes('one@batch-collision.example', id)).toEqual(COLLIDING_A)
  })

  it('still stores the same attachment again under its MD5 (no false collision)', async () => {
    for (const to of ['same1@collision2.example', 'same2@collision2.example']) {
      const response = await ingestRaw(mimeMessage({ to, files: [file(COLLIDING_A)] }), to)
      expect(response.status).toBe(200)
    }
  })
})
