import { beforeAll, describe, expect, it } from 'vitest'
import fixture from '../fixtures/inline-and-attachment.eml?raw'
import { call, createAccount, ingest, reserve } from '../requests'

// Every route of the message API, for a public and a private inbox, as the owner, another
// account and a caller with no key. A route added to the API belongs in this table.
type Route = { method: string; path: (inbox: string, id: string) => string; needsAccount?: boolean }

const ROUTES: Route[] = [
  { method: 'GET', path: (inbox) => `/api/addresses/${inbox}/messages` },
  { method: 'GET', path: (inbox) => `/api/addresses/${inbox}/message-count` },
  { method: 'DELETE', path: (inbox) => `/api/addresses/${inbox}/messages` },
  { method: 'GET', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}` },
  { method: 'DELETE', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}` },
  {
    method: 'PUT',
    path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/star`,
    needsAccount: true,
  },
  { method: 'GET', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/headers` },
  { method: 'GET', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/attachments` },
  {
    method: 'GET',
    path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/attachments/diary.pdf`,
  },
  { method: 'PUT', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/labels/work` },
  { method: 'PUT', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/folder/spam` },
  { method: 'PUT', path: (inbox, id) => `/api/addresses/${inbox}/messages/${id}/read/true` },
  { method: 'GET', path: (inbox, id) => `/api/headers/${inbox}/${id}` },
  { method: 'GET', path: (inbox, id) => `/api/body/${inbox}/${id}` },
  { method: 'GET', path: (inbox, id) => `/api/dirty/${inbox}/${id}` },
  { method: 'GET', path: (inbox, id) => `/api/text/${inbox}/${id}` },
  { method: 'GET', path: (inbox, id) => `/api/raw/${inbox}/${id}` },
]

let owner: Awaited<ReturnType<typeof createAccount>>
let other: Awaited<ReturnType<typeof createAccount>>

beforeAll(async () => {
  owner = await createAccount()
  other = await createAccount()
  await reserve('private@example.com', owner.apiKey)
})

async function freshMessage(inbox: string) {
  const [stored] = await ingest(fixture, [inbox])
  return stored._id
}

describe('visibility of every message route', () => {
  for (const route of ROUTES) {
    const label = `${route.method} ${route.path(':email', ':messageId')}`

    it(`${label}: a private inbox answers its owner`, async () => {
      const id = await freshMessage('private@example.com')
      const response = await call(route.path('private@example.com', id), {
        method: route.method,
        headers: owner.headers,
      })
      expect(response.status).toBeLessThan(300)
    })

    it(`${label}: a private inbox refuses another account and no key with 401`, async () => {
      const id = await freshMessage('private@example.com')
      for (const headers of [other.headers, {}]) {
        const response = await call(route.path('private@example.com', id), {
          method: route.method,
          headers,
        })
        expect(response.status).toBe(401)
        const body = await response.json<{ error: string; message: string }>()
        expect(body.error).toBe('Unauthorized')
        expect(body.message).toBeTruthy()
      }
      // Nothing was changed or removed by the refused calls.
      const stillThere = await call(`/api/addresses/private@example.com/messages/${id}`, {
        headers: owner.headers,
      })
      const message = await stillThere.json<{
        labels: string[]
        folder: string
        read: boolean
        savedBy: null
      }>()
      expect(message).toMatchObject({ labels: [], folder: 'inbox', read: false, savedBy: null })
    })

    it(`${label}: a public inbox answers anyone${route.needsAccount ? ' with a key' : ', even without a key'}`, async () => {
      for (const headers of [owner.headers, other.headers, {}]) {
        const id = await freshMessage('public@example.com')
        const response = await call(route.path('public@example.com', id), {
          method: route.method,
          headers,
        })
        if (route.needsAccount && !('Mailsac-Key' in headers)) expect(response.status).toBe(401)
        else expect(response.status).toBeLessThan(300)
      }
    })
  }
})
