import { api, say } from './api.js'

const form = document.getElementById('login')
const error = form.querySelector('.error')

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  say(error, '')
  const data = new FormData(form)
  try {
    await api('/api/auth/login', {
      method: 'POST',
      body: { username: data.get('username').trim(), apiKey: data.get('apiKey').trim() },
    })
    location.assign(form.dataset.next || '/account')
  } catch (err) {
    say(error, err.message)
  }
})
