import { api, localTimes } from './api.js'

localTimes()

document.querySelector('[data-action="logout"]')?.addEventListener('click', async () => {
  await api('/api/auth/logout', { method: 'POST' }).catch(() => {})
  location.assign('/')
})
