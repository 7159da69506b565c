// Calls to the REST API from the pages. The session cookie goes along by itself; requests
// that change something carry the session's CSRF token (from the page's <meta>), which the
// API requires of cookie-authenticated writes. It is read at each call: rotating the API key
// replaces the session, and the account page then writes the new token into the <meta>.
const csrfMeta = () => document.querySelector('meta[name="csrf-token"]')

/** fetch() for /api routes: JSON in and out, `{error, message}` failures thrown as Errors. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' }
  const csrf = csrfMeta()?.content
  if (csrf) headers['X-CSRF-Token'] = csrf
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  })
  const type = response.headers.get('content-type') ?? ''
  const data = type.includes('json') ? await response.json() : null
  if (!response.ok) throw new Error(data?.message ?? `${response.status} ${response.statusText}`)
  return data
}

/** Dates in the reader's own time zone (the server writes UTC). */
export function localTimes(root = document) {
  for (const time of root.querySelectorAll('time[datetime]')) {
    const date = new Date(time.getAttribute('datetime'))
    if (!Number.isNaN(date.getTime())) time.textContent = date.toLocaleString()
  }
}

/** Shows `message` in an element with role=alert (or hides it when empty). */
export function say(element, message) {
  if (!element) return
  element.textContent = message ?? ''
  element.hidden = !message
}

/** The page of an inbox or message; keeps `@` readable, as the server's links do. */
export function inboxUrl(inbox, messageId) {
  const segment = (value) => encodeURIComponent(value).replace(/%40/g, '@')
  return messageId === undefined
    ? `/inbox/${segment(inbox)}`
    : `/inbox/${segment(inbox)}/${segment(messageId)}`
}
