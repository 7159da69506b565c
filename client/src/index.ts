// A client for tests of email flows (sign up, then read the email's code or link), with no
// dependency beyond `fetch`. Against this service it waits server-side
// (GET /api/addresses/:email/wait); against mailsac.com, which has no wait, it polls the
// inbox's message list instead, so one test suite runs against either.

/** A message as the API answers it; the fields a test reads, and anything else it sends. */
export type Message = {
  _id: string
  inbox: string
  subject: string
  from: { name: string; address: string }[]
  to: { name: string; address: string }[]
  received: string
  links?: string[]
  text?: string
  html?: string
  /** This service's extension (wait and latest responses). */
  codes?: string[]
  /** This service's extension (wait and latest responses). */
  actionLink?: string | null
  [field: string]: unknown
}

/** What a message must match; every field given must hold. */
export type MessageFilter = {
  from?: string
  to?: string
  /** Contained in the subject (case-insensitive). */
  subject?: string
  /** Contained in the subject or the text body (case-insensitive). */
  text?: string
  /** A RegExp or `/pattern/flags`, tested on the subject and the text body. */
  regex?: RegExp | string
  /** Only mail received at or after this (a Date, ms epoch, ISO string or message id). */
  since?: Date | number | string
  /** Header name to exact value. */
  headers?: Record<string, string>
  hasCode?: boolean
  hasLink?: boolean
}

export type WaitOptions = {
  /** Seconds (default 30, at most 60 on this service). */
  timeout?: number
  /** Wait for this many matches (default 1). */
  count?: number
}

export type ClientOptions = {
  /** This service's origin, or https://mailsac.com. */
  baseUrl: string
  apiKey?: string
  /** The domain `newInbox()` makes addresses at. */
  domain: string
  /** `wait`: always use the wait endpoint; `poll`: list and filter here; default: detect. */
  mode?: 'wait' | 'poll'
  /** Poll interval in ms when polling (default 2000: Mailsac counts every call). */
  pollInterval?: number
  fetch?: typeof fetch
}

export class MailClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'MailClientError'
  }
}

const CODE_WORD = /\b(?:code|otp|one[- ]time|verification|verify|pin|passcode|password|security)\b/i
const CODE =
  /(?<![\w.,:/$+-])(\d{4,8}|(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{4,10})(?![\w/$%]|[.,:-]\d)/g

/** The links of a message (its `links` field, or those of its text when it has none). */
export function links(message: Message): string[] {
  if (message.links && message.links.length > 0) return message.links
  return [
    ...`${message.text ?? ''}\n${message.html ?? ''}`.matchAll(/https?:\/\/[^\s"'<>)]+/g),
  ].map((match) => match[0].replace(/[.,;:!?]+$/, ''))
}

/**
 * The message's most likely one-time code: the service's `codes[0]` when it sent them,
 * otherwise the first 4-8 digit number or short token near a word like "code" in its text
 * (mailsac.com sends no codes). Null when there is none.
 */
export function code(message: Message): string | null {
  if (message.codes) return message.codes[0] ?? null
  const text = `${message.subject}\n${message.text ?? ''}`
  for (const match of text.matchAll(CODE)) {
    const around = text.slice(Math.max(0, match.index - 80), match.index + match[0].length + 80)
    if (CODE_WORD.test(around)) return match[1]
  }
  return null
}

function sinceValue(since: MessageFilter['since']): string | undefined {
  if (since === undefined) return undefined
  return since instanceof Date ? String(since.getTime()) : String(since)
}

function filterQuery(filter: MessageFilter): URLSearchParams {
  const query = new URLSearchParams()
  for (const key of ['from', 'to', 'subject', 'text'] as const) {
    if (filter[key] !== undefined) query.set(key, filter[key])
  }
  if (filter.regex !== undefined) {
    query.set('regex', filter.regex instanceof RegExp ? String(filter.regex) : filter.regex)
  }
  const since = sinceValue(filter.since)
  if (since !== undefined) query.set('since', since)
  for (const [name, value] of Object.entries(filter.headers ?? {})) {
    query.append('header', `${name}:${value}`)
  }
  if (filter.hasCode) query.set('hasCode', '1')
  if (filter.hasLink) query.set('hasLink', '1')
  return query
}

/** The filter checked here, for polling (what a Mailsac list item carries). */
function matchesLocally(message: Message, filter: MessageFilter, sinceTime: number | null) {
  const has = (value: string, needle?: string) =>
    needle === undefined || value.toLowerCase().includes(needle.toLowerCase())
  const people = (list: Message['from']) => list.map((p) => `${p.name} <${p.address}>`).join(', ')
  if (sinceTime !== null && Date.parse(message.received) < sinceTime) return false
  if (!has(people(message.from ?? []), filter.from)) return false
  if (!has(`${people(message.to ?? [])}, ${message.inbox}`, filter.to)) return false
  if (!has(message.subject ?? '', filter.subject)) return false
  if (filter.hasLink && links(message).length === 0) return false
  return true
}

export type MailClient = ReturnType<typeof createClient>

/** A client for `baseUrl`; see ClientOptions. */
export function createClient(options: ClientOptions) {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis)
  const base = options.baseUrl.replace(/\/+$/, '')
  let mode = options.mode ?? null

  async function request(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers)
    if (options.apiKey) headers.set('Mailsac-Key', options.apiKey)
    return fetcher(`${base}${path}`, { ...init, headers })
  }

  async function answer<T>(response: Response): Promise<T> {
    const text = await response.text()
    if (!response.ok) {
      let message = text
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text
      } catch {
        // Not JSON: the text says what happened.
      }
      throw new MailClientError(response.status, `${response.status}: ${message}`)
    }
    return JSON.parse(text) as T
  }

  const inboxPath = (inbox: string) => `/api/addresses/${encodeURIComponent(inbox)}`

  async function getMessage(inbox: string, id: string): Promise<Message> {
    return answer(await request(`${inboxPath(inbox)}/messages/${encodeURIComponent(id)}`))
  }

  /** Polls the message list (mailsac.com), reading each new candidate in full. */
  async function poll(inbox: string, filter: MessageFilter, timeout: number, count: number) {
    const deadline = Date.now() + timeout * 1000
    const since = filter.since
    const sinceTime =
      since instanceof Date ? since.getTime() : typeof since === 'number' ? since : null
    const interval = options.pollInterval ?? 2000
    for (;;) {
      const list = await answer<Message[]>(await request(`${inboxPath(inbox)}/messages`))
      const matches: Message[] = []
      for (const item of list.filter((m) => matchesLocally(m, filter, sinceTime))) {
        const full = filter.text || filter.regex ? await getMessage(inbox, item._id) : item
        const body = `${full.subject}\n${full.text ?? ''}`
        if (filter.text && !body.toLowerCase().includes(filter.text.toLowerCase())) continue
        if (filter.regex) {
          const regex =
            filter.regex instanceof RegExp
              ? filter.regex
              : new RegExp(filter.regex.replace(/^\/|\/[imsu]*$/g, ''))
          if (!regex.test(body)) continue
        }
        matches.push(full)
        if (matches.length >= count) break
      }
      if (matches.length >= count) {
        return Promise.all(
          matches.map((m) => (m.text === undefined ? getMessage(inbox, m._id) : m)),
        )
      }
      if (Date.now() + interval > deadline) {
        throw new MailClientError(408, `Timed out after ${timeout} s waiting for ${inbox}.`)
      }
      await new Promise((resolve) => setTimeout(resolve, interval))
    }
  }

  return {
    /** A fresh unique address on the configured domain (nothing is created until mail comes). */
    newInbox(prefix = 'test'): string {
      const random = crypto.getRandomValues(new Uint8Array(8))
      const id = [...random].map((byte) => byte.toString(16).padStart(2, '0')).join('')
      return `${prefix}-${id}@${options.domain}`
    },

    /** The first `count` messages matching `filter`, waiting for them up to `timeout`. */
    async waitForMessages(
      inbox: string,
      filter: MessageFilter = {},
      { timeout = 30, count = 1 }: WaitOptions = {},
    ): Promise<Message[]> {
      if (mode !== 'poll') {
        const query = filterQuery(filter)
        query.set('timeout', String(timeout))
        query.set('count', String(count))
        const response = await request(`${inboxPath(inbox)}/wait?${query}`)
        // mailsac.com has no wait route: remember it and poll from now on.
        if (response.status === 404 && mode === null) mode = 'poll'
        else return answer<Message[]>(response)
      }
      return poll(inbox, filter, timeout, count)
    },

    /** The first message matching `filter`, waiting for it up to `timeout`. */
    async waitForMessage(inbox: string, filter: MessageFilter = {}, wait: WaitOptions = {}) {
      const [message] = await this.waitForMessages(inbox, filter, { ...wait, count: 1 })
      return message
    },

    /** Asserts no message matching `filter` arrives within `timeout` (this service only). */
    async expectNoMessage(inbox: string, filter: MessageFilter = {}, { timeout = 5 } = {}) {
      const query = filterQuery(filter)
      query.set('timeout', String(timeout))
      query.set('expect', 'none')
      await answer<Message[]>(await request(`${inboxPath(inbox)}/wait?${query}`))
    },

    /** The newest message matching `filter`, or null. */
    async latest(inbox: string, filter: MessageFilter = {}): Promise<Message | null> {
      if (mode !== 'poll') {
        const response = await request(`${inboxPath(inbox)}/latest?${filterQuery(filter)}`)
        if (response.status !== 404) return answer<Message>(response)
        const body = await response.text()
        // A 404 of the route itself (mailsac.com) rather than "no message matches".
        if (body.includes('No message matches')) return null
        if (mode === null) mode = 'poll'
      }
      const list = await answer<Message[]>(await request(`${inboxPath(inbox)}/messages`))
      const since = filter.since
      const sinceTime =
        since instanceof Date ? since.getTime() : typeof since === 'number' ? since : null
      const newest = list.find((m) => matchesLocally(m, filter, sinceTime))
      return newest ? getMessage(inbox, newest._id) : null
    },

    /** The messages of an inbox, newest first. */
    async messages(inbox: string): Promise<Message[]> {
      return answer(await request(`${inboxPath(inbox)}/messages`))
    },

    getMessage,
    links,
    code,
  }
}
