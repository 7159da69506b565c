import { createScheduledController } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { ingestMessage } from '../../src/mail/inbound/ingest'
import { retentionSettings, runRetention } from '../../src/mail/retention'
import { md5 } from '../fixture-bytes'
import { createAccount, json, reserve } from '../requests'
import { mimeMessage, textFile, type TestFile } from '../mail-builders'

const HOUR = 3_600_000
const NOW = new Date()
const OLD = new Date(NOW.getTime() - 100 * HOUR)
const RECENT = new Date(NOW.getTime() - HOUR)

async function deliver(to: string[], at: Date, files: TestFile[] = []) {
  const raw = mimeMessage({ to: to.join(', '), files })
  return ingestMessage(env, raw, { from: 'sender@example.org', to }, at)
}

async function exists(id: string): Promise<boolean> {
  const row = await env.DB.prepare('select pack_key from messages where id = ?').bind(id).first()
  return row !== null
}

async function packOf(id: string): Promise<string> {
  const row = await env.DB.prepare('select pack_key from messages where id = ?')
    .bind(id)
    .first<{ pack_key: string }>()
  return row!.pack_key
}

async function blobStored(file: TestFile): Promise<boolean> {
  const sum = await md5(file.bytes)
  const row = await env.DB.prepare('select md5 from attachment_blobs where md5 = ?')
    .bind(sum)
    .first()
  const object = await env.MAIL.head(`attachments/${sum}`)
  expect(row !== null, `blob row and R2 object of ${file.name} agree`).toBe(object !== null)
  return object !== null
}

describe('retention (the scheduled job)', () => {
  it('deletes old public unstarred mail and its R2 objects; keeps starred, private and recent mail', async () => {
    const owner = await createAccount()
    await reserve('kept-private@example.com', owner.apiKey)
    await env.DB.prepare(
      'insert into domains (domain, owner, sending_verified, created) values (?, ?, 0, ?)',
    )
      .bind('kept-owned.test', owner.id, Date.now())
      .run()

    const lonely = textFile('lonely.txt', 'only in the old public message')
    const sharedWithRecent = textFile('shared-recent.txt', 'also in a recent message')
    const sharedWithPrivate = textFile('shared-private.txt', 'also in old private mail')

    const [oldPublic] = await deliver(['old@example.com'], OLD, [lonely, sharedWithRecent])
    const [oldPublic2] = await deliver(['old2@example.com'], OLD, [sharedWithPrivate])
    const [oldStarred] = await deliver(['starred@example.com'], OLD)
    await json(`/api/addresses/starred@example.com/messages/${oldStarred._id}/star`, {
      method: 'PUT',
      headers: owner.headers,
    })
    const [oldPrivate] = await deliver(['kept-private@example.com'], OLD, [sharedWithPrivate])
    const [oldOwned] = await deliver(['anyone@kept-owned.test'], OLD)
    // One delivery to a public and a private inbox: two rows sharing one R2 pack.
    const [oldSharedPublic, oldSharedPrivate] = await deliver(
      ['shared-pack@example.com', 'kept-private@example.com'],
      OLD,
    )
    const [recent] = await deliver(['recent@example.com'], RECENT, [sharedWithRecent])

    const oldPack = await packOf(oldPublic._id)
    const sharedPack = await packOf(oldSharedPublic._id)
    expect(await env.MAIL.head(oldPack)).not.toBeNull()

    const report = await runRetention(env, NOW)
    expect(report).toMatchObject({ expired: 3, backlog: false })

    expect(await exists(oldPublic._id)).toBe(false)
    expect(await exists(oldPublic2._id)).toBe(false)
    expect(await exists(oldSharedPublic._id)).toBe(false)
    for (const kept of [oldStarred, oldPrivate, oldOwned, oldSharedPrivate, recent]) {
      expect(await exists(kept._id), kept.inbox).toBe(true)
    }
    expect(await env.MAIL.head(oldPack)).toBeNull()
    expect(await env.MAIL.head(sharedPack), 'a pack still referenced stays').not.toBeNull()
    expect(await blobStored(lonely)).toBe(false)
    expect(await blobStored(sharedWithRecent)).toBe(true)
    expect(await blobStored(sharedWithPrivate)).toBe(true)

    // The kept mail still reads whole.
    const text = await json(`/api/addresses/kept-private@example.com/messages/${oldPrivate._id}`, {
      headers: owner.headers,
    })
    expect(text.attachments).toEqual([await md5(sharedWithPrivate.bytes)])
  })

  it('keeps at most PUBLIC_INBOX_MAX_MESSAGES per public inbox, deleting the oldest; starred mail is not counted', async () => {
    const owner = await createAccount()
    const ids: string[] = []
    for (let i = 5; i >= 1; i--) {
      const [stored] = await deliver(['capped@example.com'], new Date(NOW.getTime() - i * 60_000))
      ids.push(stored._id)
    }
    // The oldest is starred: never deleted, and not one of the 3 kept.
    await json(`/api/addresses/capped@example.com/messages/${ids[0]}/star`, {
      method: 'PUT',
      headers: owner.headers,
    })
    const report = await runRetention({ ...env, PUBLIC_INBOX_MAX_MESSAGES: '3' }, NOW)
    expect(report.overCap).toBe(1)
    expect(await Promise.all(ids.map(exists))).toEqual([true, false, true, true, true])

    // A reserved inbox over the cap is left alone.
    await reserve('capped-private@example.com', owner.apiKey)
    for (let i = 0; i < 5; i++) await deliver(['capped-private@example.com'], RECENT)
    await runRetention({ ...env, PUBLIC_INBOX_MAX_MESSAGES: '3' }, NOW)
    const { count } = await json('/api/addresses/capped-private@example.com/message-count', {
      headers: owner.headers,
    })
    expect(count).toBe(5)
  })

  it('works in bounded batches: a backlog drains over several runs', async () => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const [stored] = await deliver([`backlog${i}@example.com`], OLD)
      ids.push(stored._id)
    }
    expect(await runRetention(env, NOW, 3)).toMatchObject({ expired: 3, backlog: true })
    expect((await Promise.all(ids.map(exists))).filter(Boolean)).toHaveLength(2)
    expect(await runRetention(env, NOW, 3)).toMatchObject({ expired: 2, backlog: false })
    expect((await Promise.all(ids.map(exists))).filter(Boolean)).toHaveLength(0)
  })

  it('sweeps attachment blobs nothing references once their grace period is over', async () => {
    const orphan = 'a'.repeat(32)
    const fresh = 'b'.repeat(32)
    for (const [sum, touched] of [
      [orphan, NOW.getTime() - HOUR],
      [fresh, NOW.getTime() - 60_000],
    ] as const) {
      await env.DB.prepare('insert into attachment_blobs (md5, size, touched) values (?, 1, ?)')
        .bind(sum, touched)
        .run()
      await env.MAIL.put(`attachments/${sum}`, 'x')
    }
    const report = await runRetention(env, NOW)
    expect(report.orphanBlobs).toBe(1)
    expect(await env.MAIL.head(`attachments/${orphan}`)).toBeNull()
    expect(await env.MAIL.head(`attachments/${fresh}`), 'an ingest may be using it').not.toBeNull()
  })

  it('runs from the scheduled() handler at the trigger time', async () => {
    const [old] = await deliver(['scheduled@example.com'], OLD)
    await worker.scheduled(
      createScheduledController({ scheduledTime: NOW.getTime(), cron: '*/5 * * * *' }),
      env,
    )
    expect(await exists(old._id)).toBe(false)
  })

  it('reads its settings from [vars] and refuses malformed ones', () => {
    expect(retentionSettings(env)).toEqual({
      publicRetentionHours: 96,
      publicInboxMaxMessages: 100,
    })
    expect(() => retentionSettings({ PUBLIC_RETENTION_HOURS: '4 days' })).toThrow(
      /PUBLIC_RETENTION_HOURS/,
    )
    expect(() => retentionSettings({ PUBLIC_INBOX_MAX_MESSAGES: '0' })).toThrow(
      /PUBLIC_INBOX_MAX_MESSAGES/,
    )
  })
})
