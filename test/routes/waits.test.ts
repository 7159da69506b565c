import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { call, createAccount, ingest, json, reserve } from '../requests'

let counter = 0
const freshInbox = () => `wait${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`

function mail(to: string, subject: string, body: string, headers: string[] = []) {
  return [
    'From: Acme <no-reply@acme.example>',
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: <${crypto.randomUUID()}@acme.example>`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    ...headers,
    '',
    body,
    '',
  ].join('\r\n')
}

const signUp = (to: string, code = '482913') =>
  mail(
    to,
    'Verify your email',
    `Your verification code is ${code}.\r\nOr open https://app.example/verify?t=${code}`,
  )

/** Waits (without a clock) until `count` waiters are held by the hub of `shard`. */
async function waitersHeld(shard: string, count: number) {
  const hub = env.REALTIME.get(env.REALTIME.idFromName(shard))
  while ((await hub.waiting()) < count) await new Promise((resolve) => setTimeout(resolve, 5))
}

/**
 * Resolves once the hub of `shard` holds no waiter. The route releases its waiter after the
 * response (waitUntil), so the release may land a moment after the answer; a release that
 * never happens fails here after two seconds.
 */
async function released(shard: string) {
  const hub = env.REALTIME.get(env.REALTIME.idFromName(shard))
  await expect.poll(() => hub.waiting(), { timeout: 2000, interval: 5 }).toBe(0)
}

async function body(response: Response) {
  return { status: response.status, json: await response.json<any>() }
}

describe('GET /api/addresses/:email/wait (#17.1)', () => {
  it('answers a message ingested while it waits, with its links, codes and action link', async () => {
    const inbox = freshInbox()
    const waiting = call(`/api/addresses/${inbox}/wait?since=${Date.now()}&timeout=20`)
    await waitersHeld(`inbox:${inbox}`, 1)
    const [stored] = await ingest(signUp(inbox), [inbox])
    const { status, json: messages } = await body(await waiting)
    expect(status).toBe(200)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatchObject({
      _id: stored._id,
      subject: 'Verify your email',
      codes: ['482913'],
      actionLink: 'https://app.example/verify?t=482913',
      links: ['https://app.example/verify?t=482913'],
    })
    expect(messages[0].text).toContain('482913')
    // Released: the inbox is no longer followed once the request is answered.
    await released(`inbox:${inbox}`)
  })

  it('finds a message that arrived just before the request (since = when the test started)', async () => {
    const inbox = freshInbox()
    const started = new Date(Date.now() - 1000).toISOString()
    const [stored] = await ingest(signUp(inbox), [inbox])
    const messages = await json(`/api/addresses/${inbox}/wait?since=${started}&timeout=5`)
    expect(messages.map((m: { _id: string }) => m._id)).toEqual([stored._id])
  })

  it('times out cleanly with a 408 naming how many matched', async () => {
    const inbox = freshInbox()
    await ingest(mail(inbox, 'Newsletter', 'Nothing to see'), [inbox])
    const response = await call(`/api/addresses/${inbox}/wait?subject=verify&timeout=1`)
    expect(response.status).toBe(408)
    expect(await response.json()).toEqual({
      error: 'Request Timeout',
      message: 'Timed out after 1 s with 0 of 1 matching messages.',
    })
    await released(`inbox:${inbox}`)
  })

  it('ignores mail before `since` given as a message id, and waits for `count` matches', async () => {
    const inbox = freshInbox()
    const [old] = await ingest(signUp(inbox, '111111'), [inbox])
    const waiting = call(`/api/addresses/${inbox}/wait?since=${old._id}&count=2&timeout=20`)
    await waitersHeld(`inbox:${inbox}`, 1)
    const [first] = await ingest(signUp(inbox, '222222'), [inbox])
    const [second] = await ingest(signUp(inbox, '333333'), [inbox])
    const { status, json: messages } = await body(await waiting)
    expect(status).toBe(200)
    expect(messages.map((m: { _id: string }) => m._id).sort()).toEqual(
      [first._id, second._id].sort(),
    )
  })

  it('filters by from, to, subject, text, regex, header, hasCode and hasLink', async () => {
    const inbox = freshInbox()
    await ingest(mail(inbox, 'Welcome', 'No code here, see https://acme.example/'), [inbox])
    const [wanted] = await ingest(
      mail(inbox, 'Your login code', 'Code: 904211', ['X-Campaign: signup']),
      [inbox],
    )
    const ids = async (query: string, status = 200) => {
      const response = await call(`/api/addresses/${inbox}/wait?timeout=0&${query}`)
      expect(response.status, query).toBe(status)
      return status === 200 ? (await response.json<{ _id: string }[]>()).map((m) => m._id) : []
    }
    expect(await ids('hasCode=1')).toEqual([wanted._id])
    expect(await ids('hasLink=1')).toHaveLength(1)
    expect(await ids('subject=LOGIN')).toEqual([wanted._id])
    expect(await ids('text=904211')).toEqual([wanted._id])
    expect(await ids(`regex=${encodeURIComponent('/code: \\d{6}$/im')}`)).toEqual([wanted._id])
    expect(await ids('header=X-Campaign:signup')).toEqual([wanted._id])
    expect(await ids('header=X-Campaign:other', 408)).toEqual([])
    expect(await ids('from=acme.example&to=' + inbox + '&count=2')).toHaveLength(2)
    expect(await ids('from=someone-else', 408)).toEqual([])
  })

  it('refuses a regex that backtracks, or is too long', async () => {
    const inbox = freshInbox()
    for (const regex of ['(a+)+$', '(\\w*)*x', '(a)\\1', 'a'.repeat(201)]) {
      const response = await call(
        `/api/addresses/${inbox}/wait?timeout=0&regex=${encodeURIComponent(regex)}`,
      )
      expect(response.status, regex).toBe(400)
    }
  })

  it('expect=none: 200 [] when nothing matched within the window', async () => {
    const inbox = freshInbox()
    await ingest(mail(inbox, 'Newsletter', 'Hello'), [inbox])
    const response = await call(`/api/addresses/${inbox}/wait?expect=none&subject=verify&timeout=1`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual([])
  })

  it('expect=none: 409 with the messages as soon as one matches', async () => {
    const inbox = freshInbox()
    const waiting = call(`/api/addresses/${inbox}/wait?expect=none&since=${Date.now()}&timeout=20`)
    await waitersHeld(`inbox:${inbox}`, 1)
    const [stored] = await ingest(signUp(inbox), [inbox])
    const { status, json: answer } = await body(await waiting)
    expect(status).toBe(409)
    expect(answer.error).toBe('Conflict')
    expect(answer.messages.map((m: { _id: string }) => m._id)).toEqual([stored._id])
  })

  it('serves 50 concurrent waiters on one inbox', async () => {
    const inbox = freshInbox()
    const since = Date.now()
    const waits = Array.from({ length: 50 }, () =>
      call(`/api/addresses/${inbox}/wait?since=${since}&timeout=30`),
    )
    await waitersHeld(`inbox:${inbox}`, 50)
    const [stored] = await ingest(signUp(inbox), [inbox])
    const answers = await Promise.all(waits.map(async (w) => body(await w)))
    for (const answer of answers) {
      expect(answer.status).toBe(200)
      expect(answer.json[0]._id).toBe(stored._id)
    }
  }, 30_000)

  it('serves 50 concurrent waiters on 50 inboxes, each its own message', async () => {
    const inboxes = Array.from({ length: 50 }, freshInbox)
    const since = Date.now()
    const waits = inboxes.map((inbox) =>
      call(`/api/addresses/${inbox}/wait?since=${since}&timeout=30`),
    )
    await Promise.all(inboxes.map((inbox) => waitersHeld(`inbox:${inbox}`, 1)))
    const stored = await Promise.all(
      inboxes.map(async (inbox, i) => (await ingest(signUp(inbox, `${100000 + i}`), [inbox]))[0]),
    )
    const answers = await Promise.all(waits.map(async (w) => body(await w)))
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200)
      expect(answer.json.map((m: { _id: string }) => m._id)).toEqual([stored[i]._id])
      expect(answer.json[0].codes).toEqual([`${100000 + i}`])
    })
  }, 30_000)

  it('waits on a private inbox for its owner, woken through the account hub', async () => {
    const owner = await createAccount()
    const inbox = freshInbox()
    await reserve(inbox, owner.apiKey)
    const waiting = call(`/api/addresses/${inbox}/wait?since=${Date.now()}&timeout=20`, {
      headers: owner.headers,
    })
    await waitersHeld(`account:${owner.id}`, 1)
    const [stored] = await ingest(signUp(inbox), [inbox])
    const { status, json: messages } = await body(await waiting)
    expect(status).toBe(200)
    expect(messages[0]._id).toBe(stored._id)
  })

  it('never answers private mail to another account or to no key', async () => {
    const owner = await createAccount()
    const other = await createAccount()
    const inbox = freshInbox()
    await reserve(inbox, owner.apiKey)
    await ingest(signUp(inbox), [inbox])
    for (const path of ['wait?timeout=1', 'wait?timeout=1&expect=none', 'latest']) {
      for (const headers of [other.headers, {}]) {
        const response = await call(`/api/addresses/${inbox}/${path}`, { headers })
        expect(response.status, path).toBe(401)
        expect(JSON.stringify(await response.json())).not.toContain('482913')
      }
    }
    // Nobody was registered for the refused requests.
    await released(`account:${owner.id}`)
  })
})

describe('GET /api/addresses/:email/latest (#17.4)', () => {
  it('answers the newest matching message in full, or 404', async () => {
    const inbox = freshInbox()
    expect((await call(`/api/addresses/${inbox}/latest`)).status).toBe(404)
    await ingest(signUp(inbox, '111111'), [inbox])
    const [newest] = await ingest(signUp(inbox, '222222'), [inbox])
    await ingest(mail(inbox, 'Later newsletter', 'Hello'), [inbox])
    const latest = await json(`/api/addresses/${inbox}/latest?hasCode=1`)
    expect(latest).toMatchObject({ _id: newest._id, codes: ['222222'] })
    expect(latest.text).toContain('222222')
    expect((await call(`/api/addresses/${inbox}/latest?subject=nothing`)).status).toBe(404)
  })
})

describe('GET /api/addresses/:email/messages/:messageId/extract (#17.2)', () => {
  it('answers the links, action link and codes stored at ingest', async () => {
    const inbox = freshInbox()
    const html = [
      'From: Acme <no-reply@acme.example>',
      `To: ${inbox}`,
      'Subject: Reset your password',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Hi!</p><a href="https://acme.example/reset?t=9&amp;u=1">Reset password</a>',
      '<a href="https://acme.example/unsubscribe">Unsubscribe</a> &copy; 2026',
      '',
    ].join('\r\n')
    const [stored] = await ingest(html, [inbox])
    expect(await json(`/api/addresses/${inbox}/messages/${stored._id}/extract`)).toEqual({
      links: ['https://acme.example/reset?t=9&u=1', 'https://acme.example/unsubscribe'],
      actionLink: 'https://acme.example/reset?t=9&u=1',
      codes: [],
    })
    // The message JSON carries the links too (#16.1).
    const message = await json(`/api/addresses/${inbox}/messages/${stored._id}`)
    expect(message.links).toEqual([
      'https://acme.example/reset?t=9&u=1',
      'https://acme.example/unsubscribe',
    ])
  })
})
