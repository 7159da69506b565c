import type { Account } from '../db/queries/accounts'
import type { MessageAttachmentRow, MessageRow, MessageWithHeaders } from '../db/queries/messages'
import type { PrivateAddress } from '../db/queries/addresses'
import { addresses, bytes, inboxUrl, Layout, When } from './layout'

type Viewer = { account: Account | null; csrfToken?: string }

export function HomePage(props: Viewer & { domains: string[] }) {
  const example = `anything@${props.domains[0] ?? 'example.com'}`
  return (
    <Layout title="Disposable mail for testing" {...props}>
      <section class="hero">
        <h1>Receive mail at any address. No sign-up.</h1>
        <p>
          Mail sent to any address here lands in a public inbox you can read in this browser, over
          the <a href="/docs">REST API</a> (Mailsac-compatible), a live websocket, or POP3. Reserve
          an address to make it private.
        </p>
        <form class="open" action="/inbox" method="get">
          <label for="email">Inbox address</label>
          <div class="row">
            <input id="email" name="email" type="email" required placeholder={example} />
            <button type="submit">Open inbox</button>
          </div>
        </form>
        <p class="muted">
          Public inboxes can be read by anyone who knows the address; mail in them is recycled after
          a while (<a href="/api/limits">limits</a>).
        </p>
      </section>
    </Layout>
  )
}

export function LoginPage(props: Viewer & { next: string }) {
  return (
    <Layout title="Sign in" {...props} scripts={['login.js']}>
      <h1>Sign in</h1>
      <form id="login" class="card" data-next={props.next}>
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="apiKey">API key</label>
        <input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
        <p class="error" role="alert" hidden></p>
      </form>
    </Layout>
  )
}

export function InboxPage(
  props: Viewer & {
    inbox: string
    owner: string | null
    messages: MessageRow[]
    /** When older mail may follow: the `until` of the next page. */
    older?: string
    /** The newest page, which the live feed keeps current. */
    isNewest: boolean
  },
) {
  const isPrivate = props.owner !== null
  const feed = !props.isNewest ? 'none' : isPrivate ? 'session' : 'public'
  return (
    <Layout title={props.inbox} {...props} scripts={['inbox.js']}>
      <div
        class="inbox"
        data-inbox={props.inbox}
        data-feed={feed}
        data-can-star={props.account ? '1' : '0'}
      >
        <div class="title">
          <h1>{props.inbox}</h1>
          <span class={isPrivate ? 'badge private' : 'badge'}>
            {isPrivate ? 'Private' : 'Public'}
          </span>
          {props.isNewest ? (
            <span class="live" data-state="connecting" aria-live="polite">
              connecting…
            </span>
          ) : (
            <a href={inboxUrl(props.inbox)}>Newest mail</a>
          )}
          <button type="button" class="danger" data-action="delete-all">
            Delete all unstarred
          </button>
        </div>
        <p class="empty muted" hidden={props.messages.length > 0}>
          No mail yet. Send a message to {props.inbox}: it appears here as soon as it arrives.
        </p>
        <ul id="messages" class="messages">
          {props.messages.map((message) => (
            <MessageItem inbox={props.inbox} message={message} canStar={!!props.account} />
          ))}
        </ul>
        {props.older ? (
          <p>
            <a
              class="button"
              href={`${inboxUrl(props.inbox)}?until=${encodeURIComponent(props.older)}`}
            >
              Older messages
            </a>
          </p>
        ) : null}
      </div>
    </Layout>
  )
}

function MessageItem(props: { inbox: string; message: MessageRow; canStar: boolean }) {
  const m = props.message
  const starred = m.savedBy !== null
  return (
    <li class={m.read ? 'message' : 'message unread'} data-id={m.id}>
      <button
        type="button"
        class="star"
        data-action="star"
        aria-pressed={starred ? 'true' : 'false'}
        title={props.canStar ? 'Star (keep, and make private)' : 'Sign in to star'}
        disabled={!props.canStar}
      >
        {starred ? '★' : '☆'}
      </button>
      <a href={inboxUrl(props.inbox, m.id)}>
        <span class="from">{addresses(m.from) || '(no sender)'}</span>
        <span class="subject">{m.subject || '(no subject)'}</span>
        {m.attachments.length > 0 ? (
          <span class="clip" title={`${m.attachments.length} attachment(s)`}>
            📎
          </span>
        ) : null}
        <When date={m.received} />
      </a>
    </li>
  )
}

export type MessageView = {
  message: MessageWithHeaders
  text: string
  hasHtml: boolean
  raw: string | null
  attachments: MessageAttachmentRow[]
}

export function MessagePage(props: Viewer & { inbox: string } & MessageView) {
  const m = props.message
  const base = inboxUrl(props.inbox, m.id)
  const api = `/api/addresses/${encodeURIComponent(props.inbox)}/messages/${encodeURIComponent(m.id)}`
  const first = props.hasHtml ? 'html' : 'text'
  const tabs: Array<[string, string]> = [
    ['html', 'HTML'],
    ['text', 'Text'],
    ['headers', 'Headers'],
    ['raw', 'Raw'],
    ['attachments', `Attachments (${props.attachments.length})`],
  ]
  return (
    <Layout title={m.subject || '(no subject)'} {...props} scripts={['message.js']}>
      <article
        class="message-view"
        data-inbox={props.inbox}
        data-id={m.id}
        data-read={m.read ? '1' : '0'}
      >
        <p>
          <a href={inboxUrl(props.inbox)}>← {props.inbox}</a>
        </p>
        <h1>{m.subject || '(no subject)'}</h1>
        <dl class="meta">
          <dt>From</dt>
          <dd>{addresses(m.from)}</dd>
          <dt>To</dt>
          <dd>{addresses(m.to)}</dd>
          {m.cc.length > 0 ? (
            <>
              <dt>Cc</dt>
              <dd>{addresses(m.cc)}</dd>
            </>
          ) : null}
          <dt>Received</dt>
          <dd>
            <When date={m.received} /> · {bytes(m.size)}
          </dd>
        </dl>
        <div class="actions">
          <button
            type="button"
            data-action="star"
            aria-pressed={m.savedBy ? 'true' : 'false'}
            disabled={!props.account}
            title={props.account ? '' : 'Sign in to star'}
          >
            {m.savedBy ? '★ Starred' : '☆ Star'}
          </button>
          <button type="button" data-action="read">
            {m.read ? 'Mark unread' : 'Mark read'}
          </button>
          <button type="button" data-action="delete" class="danger">
            Delete
          </button>
          <a
            class="button"
            href={`/api/raw/${encodeURIComponent(props.inbox)}/${encodeURIComponent(m.id)}?download=1`}
          >
            Download .eml
          </a>
        </div>
        <nav class="tabs" role="tablist">
          {tabs.map(([id, label]) => (
            <button
              type="button"
              role="tab"
              id={`tab-${id}`}
              data-tab={id}
              aria-selected={id === first ? 'true' : 'false'}
            >
              {label}
            </button>
          ))}
        </nav>
        <section data-panel="html" role="tabpanel" hidden={first !== 'html'}>
          {props.hasHtml ? (
            // No allow-scripts and no allow-same-origin: the frame is a unique origin that can
            // run nothing; its own response carries a CSP that says the same (src/web/routes.tsx).
            <iframe
              class="html"
              title="Message HTML"
              sandbox="allow-popups allow-popups-to-escape-sandbox"
              referrerpolicy="no-referrer"
              src={`${base}/html`}
            ></iframe>
          ) : (
            <p class="muted">This message has no HTML part.</p>
          )}
        </section>
        <section data-panel="text" role="tabpanel" hidden={first !== 'text'}>
          <pre class="text">{props.text || '(no text part)'}</pre>
        </section>
        <section data-panel="headers" role="tabpanel" hidden>
          <table class="headers">
            <tbody>
              {m.headers.map(([name, value]) => (
                <tr>
                  <th>{name}</th>
                  <td>{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section data-panel="raw" role="tabpanel" hidden>
          {props.raw !== null ? (
            <pre class="raw">{props.raw}</pre>
          ) : (
            <p>
              Too large to show here:{' '}
              <a href={`/api/raw/${encodeURIComponent(props.inbox)}/${encodeURIComponent(m.id)}`}>
                open the raw message
              </a>
              .
            </p>
          )}
        </section>
        <section data-panel="attachments" role="tabpanel" hidden>
          {props.attachments.length === 0 ? (
            <p class="muted">No attachments.</p>
          ) : (
            <ul class="attachments">
              {props.attachments.map((a) => (
                <li>
                  <a
                    href={`${api}/attachments/${encodeURIComponent(a.md5)}`}
                    download={a.filename ?? a.md5}
                  >
                    {a.filename ?? a.md5}
                  </a>{' '}
                  <span class="muted">
                    {a.contentType} · {bytes(a.size)}
                    {a.contentId ? ' · inline' : ''}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </article>
    </Layout>
  )
}

export function AccountPage(props: Viewer & { account: Account; addresses: PrivateAddress[] }) {
  const a = props.account
  return (
    <Layout title="Account" {...props} scripts={['account.js']}>
      <h1>{a.id}</h1>
      <dl class="meta">
        <dt>Email</dt>
        <dd>{a.email ?? '—'}</dd>
        <dt>Private address credits</dt>
        <dd data-field="credits">{a.privateAddressCredits}</dd>
        <dt>Sends remaining</dt>
        <dd>{a.sendsRemaining}</dd>
        <dt>Message limit</dt>
        <dd>{a.messageLimit}</dd>
      </dl>

      <h2>API key</h2>
      <p class="muted">
        Keys are stored only as hashes, so the current one cannot be shown. A new key replaces it at
        once; programs using the old key stop working.
      </p>
      <button type="button" data-action="rotate-key" class="danger">
        Regenerate API key
      </button>
      <output class="secret" hidden></output>

      <h2>Private addresses</h2>
      <form id="reserve" class="row">
        <input
          name="email"
          type="email"
          required
          placeholder="new-address@example.com"
          aria-label="Address to reserve"
        />
        <button type="submit">Reserve</button>
      </form>
      <p class="error" role="alert" hidden></p>
      <ul class="addresses">
        {props.addresses.map((address) => (
          <li data-email={address.email}>
            <div class="row">
              <a href={inboxUrl(address.email)}>{address.email}</a>
              <button type="button" data-action="release" class="danger">
                Release
              </button>
            </div>
            <form class="settings">
              <label>
                Forward to <input name="forward" type="email" value={address.forward ?? ''} />
              </label>
              <label>
                Webhook URL <input name="webhook" type="url" value={address.webhook ?? ''} />
              </label>
              <label>
                Slack webhook{' '}
                <input name="webhookSlack" type="url" value={address.webhookSlack ?? ''} />
              </label>
              <label class="check">
                <input name="enablews" type="checkbox" checked={address.enablews} /> Websocket (API
                clients)
              </label>
              <button type="submit">Save</button>
              <span class="saved muted" hidden>
                Saved.
              </span>
            </form>
          </li>
        ))}
      </ul>
    </Layout>
  )
}

export function ErrorPage(props: Viewer & { status: number; message: string; next?: string }) {
  return (
    <Layout title={String(props.status)} {...props}>
      <h1>{props.status === 401 ? 'Private' : `Error ${props.status}`}</h1>
      <p>{props.message}</p>
      {props.status === 401 && !props.account ? (
        <p>
          <a class="button" href={`/login?next=${encodeURIComponent(props.next ?? '/')}`}>
            Sign in as its owner
          </a>
        </p>
      ) : null}
      <p>
        <a href="/">Home</a>
      </p>
    </Layout>
  )
}
