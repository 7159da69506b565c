import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { ingestMessage } from '../../src/mail/inbound/ingest'
import { md5 } from '../fixture-bytes'
import { ADMIN, call, createAccount, json, reserve } from '../requests'
import { mimeMessage, textFile, type TestFile } from '../mail-builders'

/** Stores one message received at `at` (the envelope sender is a VERP-style bounce address). */
async function deliver(
  to: string,
  at: string,
  options: { from?: string; files?: TestFile[] } = {},
) {
  const raw = mimeMessage({ to, ...options })
  const envelope = { from: `bounce-${crypto.randomUUID()}@bulk.example`, to: [to] }
  const [stored] = await ingestMessage(env, raw, envelope, new Date(at))
  return stored._id
}

async function star(inbox: string, id: string, apiKey: string) {
  await json(`/api/addresses/${inbox}/messages/${id}/star`, {
    method: 'PUT',
    headers: { 'Mailsac-Key': apiKey },
  })
}

/** The mail of the "private" cases: a reserved inbox and a domain owned by an account. */
async function privateInboxes() {
  const owner = await createAccount()
  await reserve('private@x.test', owner.apiKey)
  await env.DB.prepare(
    'insert into domains (domain, owner, sending_verified, created) values (?, ?, 0, ?)',
  )
    .bind('owned.test', owner.id, Date.now())
    .run()
  return owner
}

const DAY = 24 * 60 * 60 * 1000
const MARCH_10 = 'startDate=2026-03-10&endDate=2026-03-11T00:00:00.000Z'
const APRIL_1 = 'startDate=2026-04-01T00:00:00Z&endDate=2026-04-02T00:00:00Z'

const PUBLIC_FILE = textFile('common.txt', 'the attachment everyone gets')
const RARE_FILE = textFile('rare.txt', 'seen once')
const SECRET_FILE = textFile('secret.txt', 'only ever sent to private inboxes')

let owner: Awaited<ReturnType<typeof createAccount>>

beforeAll(async () => {
  owner = await privateInboxes()

  // March 10: a@x.test 4 (one starred), b@x.test 2, c@y.test 1, and 10 private messages.
  const day = '2026-03-10T12:00:00Z'
  const aIds = []
  for (let i = 0; i < 4; i++)
    aIds.push(await deliver('a@x.test', day, { from: 'alice@senders.test' }))
  await star('a@x.test', aIds[0], owner.apiKey)
  for (let i = 0; i < 2; i++) await deliver('b@x.test', day, { from: 'Bob <BOB@Senders.test>' })
  await deliver('c@y.test', day, { from: 'carol@other.test' })
  for (let i = 0; i < 5; i++) {
    await deliver('private@x.test', day, { from: 'alice@senders.test' })
    await deliver('z@owned.test', day, { from: 'alice@senders.test' })
  }
  // Outside the range: the day before, and exactly at endDate (the range is half-open).
  await deliver('a@x.test', '2026-03-09T23:59:59Z', { from: 'alice@senders.test' })
  await deliver('a@x.test', '2026-03-11T00:00:00Z', { from: 'alice@senders.test' })

  // April 1: attachments.
  const april = '2026-04-01T08:00:00Z'
  await deliver('att1@x.test', april, { files: [PUBLIC_FILE, PUBLIC_FILE] })
  await deliver('att2@y.test', april, { files: [PUBLIC_FILE] })
  await deliver('att3@x.test', april, { files: [RARE_FILE] })
  await deliver('private@x.test', april, { files: [PUBLIC_FILE, SECRET_FILE] })
  await deliver('z@owned.test', april, { files: [SECRET_FILE] })
  const starred = await deliver('att4@x.test', april, { files: [SECRET_FILE] })
  await star('att4@x.test', starred, owner.apiKey)
  // Outside April 1.
  await deliver('att5@x.test', '2026-04-03T08:00:00Z', { files: [RARE_FILE] })
})

describe('GET /api/mailstats/top-addresses', () => {
  it('counts public, unstarred mail per inbox in the date range, most first', async () => {
    expect(await json(`/api/mailstats/top-addresses?${MARCH_10}`)).toEqual([
      { _id: 'a@x.test', n: 3 },
      { _id: 'b@x.test', n: 2 },
      { _id: 'c@y.test', n: 1 },
    ])
  })

  it('pages with limit and skip', async () => {
    expect(await json(`/api/mailstats/top-addresses?${MARCH_10}&limit=2`)).toEqual([
      { _id: 'a@x.test', n: 3 },
      { _id: 'b@x.test', n: 2 },
    ])
    expect(await json(`/api/mailstats/top-addresses?${MARCH_10}&limit=1&skip=1`)).toEqual([
      { _id: 'b@x.test', n: 2 },
    ])
    expect(await json(`/api/mailstats/top-addresses?${MARCH_10}&skip=3`)).toEqual([])
  })

  it('includes the start instant and excludes the end instant', async () => {
    const ids = (range: string) =>
      json(`/api/mailstats/top-addresses?${range}`).then((rows: any[]) => rows)
    expect(await ids('startDate=2026-03-09T23:59:59Z&endDate=2026-03-10T00:00:00Z')).toEqual([
      { _id: 'a@x.test', n: 1 },
    ])
    expect(await ids('startDate=2026-03-11T00:00:00Z&endDate=2026-03-12')).toEqual([
      { _id: 'a@x.test', n: 1 },
    ])
  })

  it('answers 400 naming the field for a bad date, limit or skip', async () => {
    const bad = await json(
      '/api/mailstats/top-addresses?startDate=soon&endDate=2026-03-11',
      {},
      400,
    )
    expect(bad.message).toMatch(/startDate/)
    const reversed = await json(
      '/api/mailstats/top-addresses?startDate=2026-03-11&endDate=2026-03-10',
      {},
      400,
    )
    expect(reversed.message).toMatch(/endDate/)
    const limit = await json(`/api/mailstats/top-addresses?${MARCH_10}&limit=1001`, {}, 400)
    expect(limit.message).toMatch(/limit/)
    const skip = await json(`/api/mailstats/top-addresses?${MARCH_10}&skip=-1`, {}, 400)
    expect(skip.message).toMatch(/skip/)
  })
})

describe('GET /api/mailstats/top-domains', () => {
  it('counts public mail per recipient domain; reserved inboxes and owned domains stay out', async () => {
    expect(await json(`/api/mailstats/top-domains?${MARCH_10}`)).toEqual([
      { _id: 'x.test', n: 5 },
      { _id: 'y.test', n: 1 },
    ])
    expect(await json(`/api/mailstats/top-domains?${MARCH_10}&skip=1&limit=5`)).toEqual([
      { _id: 'y.test', n: 1 },
    ])
  })
})

describe('GET /api/mailstats/top-senders', () => {
  it('counts public mail per From address, lower-cased, ignoring envelope senders', async () => {
    expect(await json(`/api/mailstats/top-senders?${MARCH_10}`)).toEqual([
      { _id: 'alice@senders.test', n: 3 },
      { _id: 'bob@senders.test', n: 2 },
      { _id: 'carol@other.test', n: 1 },
    ])
    expect(await json(`/api/mailstats/top-senders?${MARCH_10}&limit=1&skip=2`)).toEqual([
      { _id: 'carol@other.test', n: 1 },
    ])
  })
})

describe('GET /api/mailstats/common-attachments', () => {
  it('counts public messages per attachment (a repeated file once), most first', async () => {
    const [common, rare, secret] = await Promise.all(
      [PUBLIC_FILE, RARE_FILE, SECRET_FILE].map((file) => md5(file.bytes)),
    )
    const rows = await json(`/api/mailstats/common-attachments?${APRIL_1}`)
    expect(rows).toEqual([
      { _id: common, n: 2 },
      { _id: rare, n: 1 },
    ])
    expect(JSON.stringify(rows)).not.toContain(secret)
    expect(await json(`/api/mailstats/common-attachments?${APRIL_1}&limit=1`)).toEqual([
      { _id: common, n: 2 },
    ])
    expect(await json(`/api/mailstats/common-attachments?${APRIL_1}&skip=1`)).toEqual([
      { _id: rare, n: 1 },
    ])
  })

  it('defaults to the last 7 days without startDate/endDate (issue #16 item 5)', async () => {
    const file = textFile('window.txt', `recent ${crypto.randomUUID()}`)
    const old = textFile('old.txt', `old ${crypto.randomUUID()}`)
    await deliver('files@window.test', new Date(Date.now() - DAY).toISOString(), { files: [file] })
    await deliver('files@window.test', new Date(Date.now() - 8 * DAY).toISOString(), {
      files: [old],
    })
    const tallies = await json<{ _id: string }[]>('/api/mailstats/common-attachments?limit=1000')
    const sums = tallies.map((t) => t._id)
    expect(sums).toContain(await md5(file.bytes))
    expect(sums).not.toContain(await md5(old.bytes))
  })
})

describe('GET /api/mailstats/common-attachments/:md5sum/count', () => {
  it('counts public messages carrying the attachment, whenever received', async () => {
    const common = await md5(PUBLIC_FILE.bytes)
    expect(await json(`/api/mailstats/common-attachments/${common}/count`)).toEqual({ n: 2 })
    const rare = await md5(RARE_FILE.bytes)
    expect(await json(`/api/mailstats/common-attachments/${rare}/count`)).toEqual({ n: 2 })
  })

  it('answers 0 for an attachment only private or starred mail carries', async () => {
    const secret = await md5(SECRET_FILE.bytes)
    expect(await json(`/api/mailstats/common-attachments/${secret}/count`)).toEqual({ n: 0 })
  })

  it('answers 400 for something that is not an MD5 sum', async () => {
    const body = await json('/api/mailstats/common-attachments/not-a-sum/count', {}, 400)
    expect(body.message).toMatch(/md5sum/)
  })
})

describe('GET /api/mailstats/common-attachments/:md5sum', () => {
  it('lists the public messages carrying it, abbreviated, newest first', async () => {
    const common = await md5(PUBLIC_FILE.bytes)
    const rows = await json(`/api/mailstats/common-attachments/${common}`)
    expect(rows.map((m: any) => m.inbox).sort()).toEqual(['att1@x.test', 'att2@y.test'])
    for (const message of rows) {
      expect(message.attachments).toContain(common)
      expect(message).toMatchObject({ _id: expect.any(String), received: expect.any(String) })
      expect(message).not.toHaveProperty('text')
    }
    expect(await json(`/api/mailstats/common-attachments/${common}?limit=1&skip=1`)).toHaveLength(1)
  })

  it('lists nothing for an attachment only private or starred mail carries', async () => {
    const secret = await md5(SECRET_FILE.bytes)
    expect(await json(`/api/mailstats/common-attachments/${secret}`)).toEqual([])
  })
})

describe('GET /api/mailstats/common-attachments/:md5sum/download', () => {
  it('serves the bytes with their content type and file name', async () => {
    const common = await md5(PUBLIC_FILE.bytes)
    const response = await call(
      `/api/mailstats/common-attachments/${common.toUpperCase()}/download`,
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="common.txt"')
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(PUBLIC_FILE.bytes)
  })

  it('answers 404 for bytes only private or starred mail carries, though R2 holds them', async () => {
    const secret = await md5(SECRET_FILE.bytes)
    expect(await env.MAIL.head(`attachments/${secret}`)).not.toBeNull()
    await json(`/api/mailstats/common-attachments/${secret}/download`, {}, 404)
  })
})

describe('mail stats after a privacy change to mail already stored', () => {
  /** One public inbox's mail on one day, as every range endpoint counts it. */
  async function counts(day: string, subject: { inbox: string; sender: string; md5: string }) {
    const range = `startDate=${day}T00:00:00Z&endDate=${day}T23:59:59.999Z&limit=1000`
    const nFor = async (endpoint: string, id: string) => {
      const rows = await json<{ _id: string; n: number }[]>(`/api/mailstats/${endpoint}?${range}`)
      return rows.find((row) => row._id === id)?.n ?? 0
    }
    return {
      inbox: await nFor('top-addresses', subject.inbox),
      domain: await nFor('top-domains', subject.inbox.split('@')[1]),
      sender: await nFor('top-senders', subject.sender),
      attachment: await nFor('common-attachments', subject.md5),
    }
  }

  /** Two messages to `inbox` on `day`, each carrying a file no other test sends. */
  async function twoMessages(inbox: string, day: string) {
    const file = textFile('late.txt', `stored before the change, ${inbox}`)
    const sender = `sender-of-${inbox}`
    const ids = []
    for (let i = 0; i < 2; i++) {
      ids.push(await deliver(inbox, `${day}T09:00:00Z`, { from: sender, files: [file] }))
    }
    return { ids, subject: { inbox, sender, md5: await md5(file.bytes) } }
  }

  const BOTH = { inbox: 2, domain: 2, sender: 2, attachment: 2 }
  const NONE = { inbox: 0, domain: 0, sender: 0, attachment: 0 }

  it('stops counting an inbox reserved after its mail arrived, and counts it again once released', async () => {
    const { subject } = await twoMessages('later@reserved-later.test', '2026-05-01')
    expect(await counts('2026-05-01', subject)).toEqual(BOTH)
    const account = await createAccount()
    await reserve(subject.inbox, account.apiKey)
    expect(await counts('2026-05-01', subject)).toEqual(NONE)
    await json(`/api/addresses/${subject.inbox}`, { method: 'DELETE', headers: account.headers })
    expect(await counts('2026-05-01', subject)).toEqual(BOTH)
  })

  // Removing a domain deletes its catch-all mail (#13.2: what was private to the owner never
  // turns public), so the counts stay at none after the release.
  it('stops counting a domain claimed after its mail arrived, and its mail goes with the release', async () => {
    const { subject } = await twoMessages('anyone@claimed-later.test', '2026-05-02')
    expect(await counts('2026-05-02', subject)).toEqual(BOTH)
    const account = await createAccount()
    await json('/internal/admin/domains', {
      method: 'POST',
      headers: { ...ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ domain: 'claimed-later.test', account: account.id }),
    })
    expect(await counts('2026-05-02', subject)).toEqual(NONE)
    await json('/internal/admin/domains/claimed-later.test', { method: 'DELETE', headers: ADMIN })
    expect(await counts('2026-05-02', subject)).toEqual(NONE)
    expect(await json('/api/addresses/anyone@claimed-later.test/messages')).toEqual([])
  })

  it('stops counting a message starred later, and counts it again once unstarred', async () => {
    const { ids, subject } = await twoMessages('starred@starred-later.test', '2026-05-03')
    const account = await createAccount()
    await star(subject.inbox, ids[0], account.apiKey)
    expect(await counts('2026-05-03', subject)).toEqual({
      inbox: 1,
      domain: 1,
      sender: 1,
      attachment: 1,
    })
    await star(subject.inbox, ids[0], account.apiKey)
    expect(await counts('2026-05-03', subject)).toEqual(BOTH)
  })

  it('stops counting deleted messages', async () => {
    const { ids, subject } = await twoMessages('deleted@deleted-later.test', '2026-05-04')
    await json(`/api/addresses/${subject.inbox}/messages/${ids[0]}`, { method: 'DELETE' })
    expect(await counts('2026-05-04', subject)).toEqual({
      inbox: 1,
      domain: 1,
      sender: 1,
      attachment: 1,
    })
    await call(`/api/addresses/${subject.inbox}/messages`, { method: 'DELETE' })
    expect(await counts('2026-05-04', subject)).toEqual(NONE)
  })
})

describe('GET /api/mailstats/blacklist', () => {
  it('lists deny-listed domains and IPs; checks one with 200 or 404', async () => {
    for (const entry of ['spam.example', '192.0.2.7']) {
      await json(`/internal/admin/denylist/${entry}`, {
        method: 'PUT',
        headers: { ...ADMIN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'test' }),
      })
    }
    expect(await json('/api/mailstats/blacklist')).toEqual(['192.0.2.7', 'spam.example'])
    expect(await json('/api/mailstats/blacklist/SPAM.example')).toEqual({ blacklisted: true })
    expect(await json('/api/mailstats/blacklist/192.0.2.7')).toEqual({ blacklisted: true })
    const absent = await json('/api/mailstats/blacklist/ham.example', {}, 404)
    expect(absent).toMatchObject({ error: 'Not Found' })
    await json('/api/mailstats/blacklist/not a domain', {}, 400)
  })
})

describe('mailstats lists without startDate/endDate (issue #16 item 5)', () => {
  it('counts the last 7 days; an endDate alone counts the 7 days before it', async () => {
    const now = Date.now()
    await deliver('recent@window.test', new Date(now - DAY).toISOString())
    await deliver('stale@window.test', new Date(now - 8 * DAY).toISOString())
    for (const stat of ['top-addresses', 'top-senders', 'top-domains']) {
      const body = await call(`/api/mailstats/${stat}?limit=1000`)
      expect(body.status, stat).toBe(200)
    }
    const inboxes = (await json<{ _id: string }[]>('/api/mailstats/top-addresses?limit=1000')).map(
      (t) => t._id,
    )
    expect(inboxes).toContain('recent@window.test')
    expect(inboxes).not.toContain('stale@window.test')
    const before = new Date(now - 7 * DAY).toISOString()
    const earlier = (
      await json<{ _id: string }[]>(`/api/mailstats/top-addresses?limit=1000&endDate=${before}`)
    ).map((t) => t._id)
    expect(earlier).toContain('stale@window.test')
    expect(earlier).not.toContain('recent@window.test')
  })
})
