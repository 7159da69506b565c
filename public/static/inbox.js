// The inbox page: new mail appears as it arrives over the websocket feed (no polling), and
// the star buttons work in place.
import { api, inboxUrl, localTimes } from './api.js'

const root = document.querySelector('.inbox')
const list = document.getElementById('messages')
const empty = root.querySelector('.empty')
const live = root.querySelector('.live')
const inbox = root.dataset.inbox
const canStar = root.dataset.canStar === '1'

function setLive(state, text) {
  live.dataset.state = state
  live.textContent = text
  document.body.dataset.live = state
}

const names = (list) =>
  (list ?? []).map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ')

/** A list item like the server renders (src/web/pages.tsx MessageItem), built with DOM APIs. */
function messageItem(message) {
  const item = document.createElement('li')
  item.className = message.read ? 'message' : 'message unread'
  item.dataset.id = message._id
  const star = document.createElement('button')
  star.type = 'button'
  star.className = 'star'
  star.dataset.action = 'star'
  star.disabled = !canStar
  star.title = canStar ? 'Star (keep, and make private)' : 'Sign in to star'
  showStar(star, Boolean(message.savedBy))
  const link = document.createElement('a')
  link.href = inboxUrl(inbox, message._id)
  const field = (className, text) => {
    const span = document.createElement('span')
    span.className = className
    span.textContent = text
    link.append(span)
  }
  field('from', names(message.from) || '(no sender)')
  field('subject', message.subject || '(no subject)')
  if (message.attachments?.length) field('clip', '📎')
  const time = document.createElement('time')
  time.setAttribute('datetime', message.received)
  link.append(time)
  item.append(star, link)
  localTimes(item)
  return item
}

function showStar(button, starred) {
  button.setAttribute('aria-pressed', String(starred))
  button.textContent = starred ? '★' : '☆'
}

function addMessage(message) {
  if (message.inbox !== inbox || list.querySelector(`[data-id="${CSS.escape(message._id)}"]`))
    return
  list.prepend(messageItem(message))
  empty.hidden = true
}

let delay = 1000
function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  const query = new URLSearchParams({ addresses: inbox })
  if (root.dataset.feed === 'session') query.set('session', '1')
  const socket = new WebSocket(`${scheme}://${location.host}/incoming-messages?${query}`)
  let refused = false
  socket.addEventListener('message', (event) => {
    const frame = JSON.parse(event.data)
    if (frame.status !== 200) {
      refused = true
      setLive('refused', frame.message ?? 'live updates refused')
      return
    }
    if (frame.msg === 'Listening') {
      delay = 1000
      setLive('open', 'live')
    }
    if (frame.email) addMessage(frame.email)
  })
  socket.addEventListener('close', () => {
    if (refused) return
    setLive('closed', 'reconnecting…')
    setTimeout(connect, delay)
    delay = Math.min(delay * 2, 30_000)
  })
}

list.addEventListener('click', async (event) => {
  const button = event.target.closest('[data-action="star"]')
  if (!button) return
  const id = button.closest('[data-id]').dataset.id
  button.disabled = true
  try {
    const message = await api(
      `/api/addresses/${encodeURIComponent(inbox)}/messages/${encodeURIComponent(id)}/star`,
      { method: 'PUT' },
    )
    showStar(button, Boolean(message.savedBy))
  } catch (err) {
    alert(err.message)
  } finally {
    button.disabled = false
  }
})

root.querySelector('[data-action="delete-all"]').addEventListener('click', async () => {
  if (!confirm(`Delete every unstarred message in ${inbox}?`)) return
  try {
    await api(`/api/addresses/${encodeURIComponent(inbox)}/messages`, { method: 'DELETE' })
    location.reload()
  } catch (err) {
    alert(err.message)
  }
})

// Older pages (?until=) stay as they are; only the newest is kept current.
if (root.dataset.feed !== 'none') connect()
else document.body.dataset.live = 'none'
