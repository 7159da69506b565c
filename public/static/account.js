// The account page: reserve and release private addresses, their forwarding settings, and
// a new API key.
import { api, say } from './api.js'

const error = document.querySelector('#reserve + .error')
const address = (email) => `/api/addresses/${encodeURIComponent(email)}`

document.getElementById('reserve').addEventListener('submit', async (event) => {
  event.preventDefault()
  say(error, '')
  const email = new FormData(event.target).get('email').trim()
  try {
    await api(address(email), { method: 'POST' })
    location.reload()
  } catch (err) {
    say(error, err.message)
  }
})

for (const item of document.querySelectorAll('.addresses [data-email]')) {
  const email = item.dataset.email
  item.querySelector('[data-action="release"]').addEventListener('click', async () => {
    if (!confirm(`Release ${email}? Its mail becomes public.`)) return
    try {
      await api(address(email), { method: 'DELETE' })
      item.remove()
    } catch (err) {
      say(error, err.message)
    }
  })
  const form = item.querySelector('form.settings')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    say(error, '')
    const data = new FormData(form)
    // An empty field turns the setting off (null), as the API documents.
    const text = (name) => data.get(name).trim() || null
    try {
      await api(address(email), {
        method: 'PUT',
        body: {
          forward: text('forward'),
          webhook: text('webhook'),
          webhookSlack: text('webhookSlack'),
          enablews: data.get('enablews') === 'on',
        },
      })
      form.querySelector('.saved').hidden = false
    } catch (err) {
      say(error, `${email}: ${err.message}`)
    }
  })
}

const secret = document.querySelector('output.secret')
document.querySelector('[data-action="rotate-key"]').addEventListener('click', async () => {
  if (!confirm('Replace your API key? Programs using the current key stop working.')) return
  try {
    const { apiKey, csrfToken } = await api('/api/me/api-key', { method: 'POST' })
    // The rotation ended every session; the answer set a fresh cookie with this token.
    if (csrfToken)
      document.querySelector('meta[name="csrf-token"]')?.setAttribute('content', csrfToken)
    secret.textContent = `New API key (shown once): ${apiKey}`
    secret.hidden = false
  } catch (err) {
    say(error, err.message)
  }
})
