import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import type { Account } from '../db/queries/accounts'

export type PageProps = {
  title: string
  account: Account | null
  /** The web session's CSRF token, for the page's scripts to send as X-CSRF-Token. */
  csrfToken?: string
  /** Scripts under /static/ this page loads (ES modules, deferred). */
  scripts?: string[]
  children?: Child
}

/**
 * The frame of every page: server-rendered HTML, one style sheet and a few small ES modules
 * from /static/ (Workers Static Assets). No build step and no framework in the browser: the
 * pages are lists, tabs and buttons, and a script per page is a few kilobytes.
 */
export function Layout(props: PageProps) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · Mailsac Edge`}</title>
          <link rel="stylesheet" href="/static/app.css" />
          {props.csrfToken ? <meta name="csrf-token" content={props.csrfToken} /> : null}
          {(props.scripts ?? []).map((name) => (
            <script type="module" src={`/static/${name}`}></script>
          ))}
        </head>
        <body>
          <header class="bar">
            <a class="brand" href="/">
              Mailsac Edge
            </a>
            <nav>
              <a href="/docs">API docs</a>
              {props.account ? (
                <>
                  <a href="/account">{props.account.id}</a>
                  <button type="button" class="link" data-action="logout">
                    Sign out
                  </button>
                </>
              ) : (
                <a href="/login">Sign in</a>
              )}
            </nav>
          </header>
          <main>{props.children}</main>
          <script type="module" src="/static/session.js"></script>
        </body>
      </html>
    </>
  )
}

/** An address list as mail clients show it: `Name <address>, ...`. */
export function addresses(list: Array<{ address: string; name: string }> | null | undefined) {
  return (list ?? []).map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ')
}

/** A date as text, in UTC; the page's script rewrites it in the reader's own time zone. */
export function When(props: { date: Date }) {
  const iso = props.date.toISOString()
  return <time datetime={iso}>{`${iso.slice(0, 16).replace('T', ' ')} UTC`}</time>
}

/** Byte counts as people read them. */
export function bytes(size: number): string {
  if (size < 1024) return `${size} B`
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`
  return `${(size / 1024 / 1024).toFixed(1)} MB`
}

/** Encodes a path segment but keeps `@` readable: `/inbox/jeff@example.com`. */
const segment = (value: string) => encodeURIComponent(value).replace(/%40/g, '@')

/** The page of an inbox, or of one of its messages. */
export function inboxUrl(inbox: string, messageId?: string): string {
  return messageId === undefined
    ? `/inbox/${segment(inbox)}`
    : `/inbox/${segment(inbox)}/${segment(messageId)}`
}
