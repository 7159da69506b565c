// The message page: tabs, and the star / read / delete buttons.
import { api, inboxUrl } from './api.js'

const view = document.querySelector('.message-view')
const inbox = view.dataset.inbox
const path = `/api/addresses/${encodeURIComponent(inbox)}/messages/${encodeURIComponent(view.dataset.id)}`

for (const tab of document.querySelectorAll('[data-tab]')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('[data-tab]')) {
      other.setAttribute('aria-selected', String(other === tab))
    }
    for (const panel of document.querySelectorAll('[data-panel]')) {
      panel.hidden = panel.dataset.panel !== tab.dataset.tab
    }
  })
}

const star = view.querySelector('[data-action="star"]')
star.addEventListener('click', async () => {
  try {
    const message = await api(`${path}/star`, { method: 'PUT' })
    const starred = Boolean(message.savedBy)
    star.setAttribute('aria-pressed', String(starred))
    star.textContent = starred ? '★ Starred' : '☆ Star'
  } catch (err) {
    alert(err.message)
  }
})

const read = view.querySelector('[data-action="read"]')
async function markRead(value) {
  const message = await api(`${path}/read/${value}`, { method: 'PUT' })
  view.dataset.read = message.read ? '1' : '0'
  read.textContent = message.read ? 'Mark unread' : 'Mark read'
}
read.addEventListener('click', () =>
  markRead(view.dataset.read !== '1').catch((err) => alert(err.message)),
)

view.querySelector('[data-action="delete"]').addEventListener('click', async () => {
  if (!confirm('Delete this message?')) return
  try {
    await api(path, { method: 'DELETE' })
    location.assign(inboxUrl(inbox))
  } catch (err) {
    alert(err.message)
  }
})

// Opening a message reads it, as in any mail client.
if (view.dataset.read !== '1') markRead(true).catch(() => {})
