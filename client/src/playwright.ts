// Playwright fixtures that hand each test a fresh inbox, in the shape of `test.extend`:
//
//   import { test as base } from '@playwright/test'
//   import { inboxFixtures, type InboxFixtures } from '@mailsac-edge/client/playwright'
//   export const test = base.extend<InboxFixtures>(inboxFixtures({ baseUrl, domain, apiKey }))
//   test('sign up', async ({ page, inbox, mail }) => { ... })
//
// Plain fixture functions, so this package needs no Playwright at run time.

import { createClient, type ClientOptions, type MailClient } from './index'

/** The fixtures added: `mail` (the client, one per test) and `inbox` (a fresh address). */
export type InboxFixtures = { mail: MailClient; inbox: string }

type Use<T> = (value: T) => Promise<void>

/** The fixture definitions for `test.extend<InboxFixtures>(...)`. */
export function inboxFixtures(options: ClientOptions) {
  return {
    mail: async ({}, use: Use<MailClient>) => {
      await use(createClient(options))
    },
    inbox: async ({ mail }: { mail: MailClient }, use: Use<string>) => {
      await use(mail.newInbox())
    },
  }
}
