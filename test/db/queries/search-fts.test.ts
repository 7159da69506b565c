// #17.3 search p99: the trigram FTS5 index over search_text (migrations/0011_search_fts.sql)
// stays in step with messages, and the search through it answers exactly what instr did.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, ingest, json, simpleMessage } from '../../requests'

const inboxName = () => `fts-${crypto.randomUUID().slice(0, 8)}@example.com`

/** The message ids the FTS index returns for a lower-cased phrase. */
async function indexed(phrase: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `select message_id from messages_fts_ids where rowid in
       (select rowid from messages_fts where messages_fts match ?)`,
  )
    .bind(`"${phrase}"`)
    .all<{ message_id: string }>()
  return results.map((row) => row.message_id)
}

const search = (inbox: string, q: string) =>
  json<{ _id: string }[]>(`/api/addresses/${inbox}/messages?q=${encodeURIComponent(q)}`)

describe('search FTS index', () => {
  it('indexes a stored message and forgets it when the message is deleted', async () => {
    const inbox = inboxName()
    const [stored] = await ingest(simpleMessage({ to: inbox, body: 'Zanzibarquux here.' }), [inbox])
    expect(await indexed('zanzibarquux')).toEqual([stored._id])
    expect((await search(inbox, 'ZANZIBARQUUX')).map((m) => m._id)).toEqual([stored._id])
    const deleted = await call(`/api/addresses/${inbox}/messages/${stored._id}`, {
      method: 'DELETE',
    })
    expect(deleted.status).toBe(200)
    expect(await indexed('zanzibarquux')).toEqual([])
    const { results } = await env.DB.prepare('select 1 from messages_fts_ids where message_id = ?')
      .bind(stored._id)
      .all()
    expect(results).toHaveLength(0)
  })

  it('finds substrings inside words, phrases across words, and FTS5 syntax characters as text', async () => {
    const inbox = inboxName()
    const [stored] = await ingest(
      simpleMessage({ to: inbox, body: 'Use c++ and "NEAR(x)" with order-tracking receipt.' }),
      [inbox],
    )
    for (const q of ['rder-trac', '"tracking receipt"', 'c++', 'near(x)', 'AND']) {
      expect(
        (await search(inbox, q)).map((m) => m._id),
        q,
      ).toEqual([stored._id])
    }
    for (const q of ['"receipt tracking"', 'zzz', '-receipt']) {
      expect(await search(inbox, q), q).toEqual([])
    }
    // Two characters are below the trigram: instr answers alone.
    expect((await search(inbox, 'c+')).map((m) => m._id)).toEqual([stored._id])
  })

  it('has its triggers (a migration that rebuilds messages must create them again)', async () => {
    const { results } = await env.DB.prepare(
      "select name from sqlite_master where type = 'trigger' and tbl_name = 'messages' order by name",
    ).all<{ name: string }>()
    expect(results.map((row) => row.name)).toEqual(
      expect.arrayContaining(['messages_fts_delete', 'messages_fts_insert', 'messages_fts_update']),
    )
  })
})
