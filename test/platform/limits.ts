// Wrappers around the Worker's bindings and `fetch` that enforce Cloudflare's production limits
// (./cloudflare-limits.ts), which the vitest pool does not. One `Invocation` stands for one
// Worker invocation: its counters are what Cloudflare counts per request, cron run or queue
// batch. A breach throws a `LimitBreach`, which fails the test; `breaches` keeps every one, so
// a breach swallowed by the code under test (turned into a 503) still fails the test.

import { EmailMessage } from 'cloudflare:email'
import { env } from 'cloudflare:workers'
import { D1, EMAIL_SERVICE, QUEUES, R2, WORKERS, type Plan } from './cloudflare-limits'

export class LimitBreach extends Error {
  override name = 'LimitBreach'
}

const encoder = new TextEncoder()

function bytesOf(value: unknown): number {
  if (value === null || value === undefined) return 0
  if (typeof value === 'string') return encoder.encode(value).byteLength
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return 8
  if (value instanceof ArrayBuffer) return value.byteLength
  if (ArrayBuffer.isView(value)) return value.byteLength
  return encoder.encode(JSON.stringify(value)).byteLength
}

async function bodyBytes(value: unknown): Promise<number> {
  if (value === null || value === undefined) return 0
  if (typeof value === 'string' || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return bytesOf(value)
  }
  if (value instanceof Blob) return value.size
  // A stream's length is unknown without reading it; R2 needs a known length anyway.
  return 0
}

export class Invocation {
  d1Queries = 0
  subrequests = 0
  openConnections = 0
  peakConnections = 0
  largestBoundValue = 0
  /** Bytes bound to D1 statements in all: what the invocation wrote (and looked up by). */
  boundBytes = 0
  largestBatch = 0
  readonly breaches: string[] = []

  constructor(readonly plan: Plan = 'free') {}

  breach(what: string): never {
    this.breaches.push(what)
    throw new LimitBreach(`Cloudflare limit (${this.plan} plan): ${what}`)
  }

  countD1Query() {
    this.d1Queries++
    const limit = D1.queriesPerInvocation[this.plan]
    if (this.d1Queries > limit) this.breach(`more than ${limit} D1 queries in one invocation`)
  }

  countSubrequest(what: string) {
    this.subrequests++
    const limit = WORKERS.subrequestsPerInvocation[this.plan]
    if (this.subrequests > limit) {
      this.breach(`more than ${limit} subrequests in one invocation (at ${what})`)
    }
  }

  /** Throws unless every limit held; call after the entry point returned. */
  assertWithinLimits() {
    if (this.breaches.length > 0) throw new LimitBreach(this.breaches.join('; '))
  }

  // D1 ----------------------------------------------------------------------------------------

  d1(inner: D1Database): D1Database {
    const unwrap = new WeakMap<object, D1PreparedStatement>()
    const check = (sql: string, values: unknown[]) => {
      const sqlBytes = bytesOf(sql)
      if (sqlBytes > D1.statementBytes) {
        this.breach(`SQL statement of ${sqlBytes} bytes > ${D1.statementBytes}`)
      }
      if (values.length > D1.boundParameters) {
        this.breach(`${values.length} bound parameters > ${D1.boundParameters}`)
      }
      let row = 0
      for (const value of values) {
        const size = bytesOf(value)
        this.largestBoundValue = Math.max(this.largestBoundValue, size)
        this.boundBytes += size
        if (size > D1.valueOrRowBytes) {
          this.breach(`a bound value of ${size} bytes > ${D1.valueOrRowBytes}`)
        }
        row += size
      }
      if (row > D1.valueOrRowBytes) this.breach(`a row of ${row} bytes > ${D1.valueOrRowBytes}`)
    }
    const statement = (real: D1PreparedStatement, sql: string): D1PreparedStatement => {
      const wrapped = {
        bind: (...values: unknown[]) => {
          check(sql, values)
          return statement(real.bind(...values), sql)
        },
        first: (column?: string) => {
          this.countD1Query()
          return column === undefined ? real.first() : real.first(column)
        },
        run: () => {
          this.countD1Query()
          return real.run()
        },
        all: () => {
          this.countD1Query()
          return real.all()
        },
        raw: (options?: { columnNames?: boolean }) => {
          this.countD1Query()
          return options?.columnNames ? real.raw({ columnNames: true }) : real.raw()
        },
      } as unknown as D1PreparedStatement
      unwrap.set(wrapped, real)
      return wrapped
    }
    return new Proxy(inner, {
      get: (target, property) => {
        if (property === 'prepare') {
          return (sql: string) => {
            check(sql, [])
            return statement(target.prepare(sql), sql)
          }
        }
        if (property === 'batch') {
          return (statements: D1PreparedStatement[]) => {
            this.countD1Query()
            this.largestBatch = Math.max(this.largestBatch, statements.length)
            if (statements.length > D1.statementsPerBatch) {
              this.breach(
                `a D1 batch of ${statements.length} statements > ${D1.statementsPerBatch}`,
              )
            }
            return target.batch(statements.map((s) => unwrap.get(s) ?? s))
          }
        }
        if (property === 'exec') {
          return (sql: string) => {
            this.countD1Query()
            check(sql, [])
            return target.exec(sql)
          }
        }
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  }

  // R2 ----------------------------------------------------------------------------------------

  r2(inner: R2Bucket): R2Bucket {
    return new Proxy(inner, {
      get: (target, property) => {
        const value = Reflect.get(target, property)
        if (typeof value !== 'function') return value
        return async (...args: unknown[]) => {
          this.countSubrequest(`R2 ${String(property)}`)
          const [key, body] = args
          const keys = Array.isArray(key) ? key : [key]
          if (property === 'delete' && keys.length > R2.keysPerDelete) {
            this.breach(`R2 delete of ${keys.length} keys > ${R2.keysPerDelete}`)
          }
          for (const k of keys) {
            if (typeof k === 'string' && bytesOf(k) > R2.keyBytes) {
              this.breach(`R2 key of ${bytesOf(k)} bytes > ${R2.keyBytes}`)
            }
          }
          if (property === 'put') {
            const size = await bodyBytes(body)
            if (size > R2.singlePutBytes)
              this.breach(`R2 put of ${size} bytes > ${R2.singlePutBytes}`)
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
  }

  // Queues ------------------------------------------------------------------------------------

  queue<T>(inner: Queue<T>): Queue<T> {
    const messageSize = (body: unknown) => {
      const size = bytesOf(JSON.stringify(body))
      if (size > QUEUES.messageBytes)
        this.breach(`a queue message of ${size} bytes > ${QUEUES.messageBytes}`)
      return size
    }
    return {
      send: async (body: T, options?: QueueSendOptions) => {
        this.countSubrequest('Queue send')
        messageSize(body)
        return inner.send(body, options)
      },
      sendBatch: async (
        messages: Iterable<MessageSendRequest<T>>,
        options?: QueueSendBatchOptions,
      ) => {
        this.countSubrequest('Queue sendBatch')
        const list = [...messages]
        if (list.length > QUEUES.messagesPerSendBatch) {
          this.breach(`sendBatch of ${list.length} messages > ${QUEUES.messagesPerSendBatch}`)
        }
        const total = list.reduce((sum, m) => sum + messageSize(m.body), 0)
        if (total > QUEUES.sendBatchBytes) {
          this.breach(`sendBatch of ${total} bytes > ${QUEUES.sendBatchBytes}`)
        }
        return inner.sendBatch(list, options)
      },
    } as unknown as Queue<T>
  }

  // send_email: a send is a subrequest; Email Service refuses larger messages ------------------

  /**
   * A `send_email` binding that counts each send and measures the message it is given (the
   * stream is read here, and `inner` gets the same bytes in a new one).
   */
  sendEmail(inner: SendEmail, sent: { to: string; bytes: number }[] = []): SendEmail {
    return {
      send: async (message: EmailMessage) => {
        this.countSubrequest(`send_email to ${message.to}`)
        // Locally the raw stream is on this key (miniflare's EmailMessage).
        const raw = (message as unknown as Record<string, ReadableStream | string>)[
          'EmailMessage::raw'
        ]
        const bytes =
          typeof raw === 'string'
            ? new TextEncoder().encode(raw)
            : new Uint8Array(await new Response(raw).arrayBuffer())
        if (bytes.byteLength > EMAIL_SERVICE.messageBytes) {
          this.breach(`send_email of ${bytes.byteLength} bytes > ${EMAIL_SERVICE.messageBytes}`)
        }
        sent.push({ to: message.to, bytes: bytes.byteLength })
        return inner.send(
          new EmailMessage(message.from, message.to, new Response(bytes).body as ReadableStream),
        )
      },
    } as unknown as SendEmail
  }

  // Durable Objects: a stub call is a subrequest ------------------------------------------------

  durableObjects<T extends Rpc.DurableObjectBranded | undefined>(
    inner: DurableObjectNamespace<T>,
  ): DurableObjectNamespace<T> {
    return new Proxy(inner, {
      get: (target, property) => {
        const value = Reflect.get(target, property)
        if (property !== 'get') return typeof value === 'function' ? value.bind(target) : value
        return (id: DurableObjectId) => {
          const stub = target.get(id)
          return new Proxy(stub, {
            get: (stubTarget, method) => {
              const member = Reflect.get(stubTarget, method)
              if (typeof member !== 'function') return member
              return (...args: unknown[]) => {
                this.countSubrequest(`Durable Object ${String(method)}`)
                return (member as (...a: unknown[]) => unknown).apply(stubTarget, args)
              }
            },
          })
        }
      },
    })
  }

  // fetch -------------------------------------------------------------------------------------

  /**
   * A `fetch` that counts subrequests and open connections: a connection is open from the call
   * until its response headers arrive (the definition Cloudflare's 6 applies to), and the
   * response body is held open until it is read or cancelled.
   */
  fetch(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      const url = input instanceof Request ? input.url : String(input)
      if (bytesOf(url) > WORKERS.urlBytes) this.breach(`a URL of ${bytesOf(url)} bytes > 16 KB`)
      this.countSubrequest(`fetch ${url}`)
      this.openConnections++
      this.peakConnections = Math.max(this.peakConnections, this.openConnections)
      try {
        if (this.openConnections > WORKERS.simultaneousConnections) {
          this.breach(
            `${this.openConnections} simultaneous outgoing connections > ${WORKERS.simultaneousConnections}`,
          )
        }
        return await inner(input, init)
      } finally {
        this.openConnections--
      }
    }
  }

  /** `env` with every binding the Worker uses wrapped. */
  env(overrides: Partial<Env> = {}): Env {
    const base = { ...env, ...overrides }
    return {
      ...base,
      DB: this.d1(base.DB),
      MAIL: this.r2(base.MAIL),
      DELIVERIES: this.queue(base.DELIVERIES),
      REALTIME: this.durableObjects(base.REALTIME),
      EMAIL: this.sendEmail(base.EMAIL),
    }
  }
}
