import { Hono, type Context } from 'hono'
import { resolver } from 'hono-openapi'
import { database } from '../../db/client'
import { adjustPrivateAddressCredits } from '../../db/queries/accounts'
import {
  deletePrivateAddress,
  findPrivateAddress,
  listPrivateAddresses,
  rotateWebhookSecret,
} from '../../db/queries/addresses'
import { listAddressDeliveries } from '../../db/queries/deliveries'
import { deleteAllInboxMessages } from '../../db/queries/messages'
import type { AppEnv } from '../../env'
import { accountOnly, requireAccount } from '../../http/auth'
import { fail } from '../../http/errors'
import { inboxParam } from '../../http/inbox-access'
import { describe, json } from '../../http/openapi/describe'
import { pageQuery, validate } from '../../http/validation'
import { domainOf, normalizeAddress } from '../../lib/address'
import { newWebhookSecret } from '../../mail/fanout/webhook-signature'
import { releaseStorage } from '../../mail/inbound/storage'
import { findInboxOwner } from '../../mail/privacy'
import { addressJson, deliveryJson } from './json'
import {
  jsonBody,
  outsideService,
  parseSettings,
  Reservation,
  reservationRefusal,
  reserveAddress,
  reservePaid,
  saveSettings,
} from './reservations'
import {
  Address,
  AddressAvailability,
  AddressList,
  AddressLookup,
  AddressReleased,
  addressSettingsSchema,
  bulkBody,
  BulkReservation,
  deleteQuery,
  DeliveryList,
  MAX_BULK_ADDRESSES,
} from './schema'

/**
 * Private addresses, mounted at `/api` because the resource has three prefixes:
 * `/addresses[/:email[/availability|/webhook-secret|/webhook-deliveries]]`, and the seed's
 * `/private-address-forwarding/:email` and `/private-addresses-bulk`. The messages of an
 * inbox (`/addresses/:email/messages...`) are the messages router's.
 */
export const addressesRoutes = new Hono<AppEnv>()

addressesRoutes.get(
  '/addresses',
  describe({
    tag: 'Addresses',
    access: 'account',
    summary: 'List private addresses',
    description: 'The addresses the account reserved, by address.',
    responses: { 200: json(AddressList, 'The reserved addresses') },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const rows = await listPrivateAddresses(database(c.env.DB), account.id)
    return c.json(rows.map(addressJson))
  },
)

addressesRoutes.get(
  '/addresses/:email/availability',
  describe({
    tag: 'Addresses',
    access: 'anyone',
    summary: 'Check address availability',
    description: 'Whether anyone owns the address (reserved, or at an owned domain), not who.',
    responses: { 200: json(AddressAvailability, 'Availability') },
    failures: { 400: 'Invalid email address: not-an-address' },
  }),
  async (c) => {
    const email = inboxParam(c.req.param('email'))
    const owner = await findInboxOwner(database(c.env.DB), email)
    return c.json({ available: owner === null, email, owned: owner !== null })
  },
)

addressesRoutes.get(
  '/addresses/:email',
  describe({
    tag: 'Addresses',
    access: 'inbox',
    summary: 'Get an address',
    description:
      'A reserved address for its owner; an address nobody reserved is an object without `owner` (at an owned domain, `implicit` with the domain as `catchAll`).',
    responses: { 200: json(AddressLookup, 'The address') },
    failures: {
      400: 'Invalid email address: not-an-address',
      401: 'This address is owned by another account.',
    },
  }),
  async (c) => {
    const email = inboxParam(c.req.param('email'))
    const account = c.get('account')
    const db = database(c.env.DB)
    const address = await findPrivateAddress(db, email)
    if (address) {
      if (address.owner !== account?.id) fail(401, 'This address is owned by another account.')
      return c.json(addressJson(address))
    }
    const domainOwner = await findInboxOwner(db, email)
    if (domainOwner && domainOwner !== account?.id)
      fail(401, 'This address is owned by another account.')
    // OpenAPI: an address nobody reserved is still an object, without `owner`; on an owned
    // domain it is `implicit` and names the domain as its catch-all.
    return c.json({
      _id: email,
      enablews: false,
      enabledws: false,
      forward: null,
      webhook: null,
      webhookSlack: null,
      ...(domainOwner ? { owner: domainOwner, implicit: true, catchAll: domainOf(email) } : {}),
    })
  },
)

addressesRoutes.post(
  '/addresses/:email',
  describe({
    tag: 'Addresses',
    access: 'account',
    summary: 'Reserve a private address',
    description:
      "Spends one private address credit. Mail to it is then the account's only. An optional body sets its settings as PUT does (validated before the credit is spent).",
    requestBody: {
      required: false,
      description: 'Optional: the settings of PUT /api/addresses/{email}.',
      content: {
        'application/json': {
          schema: resolver(addressSettingsSchema(false)),
          example: { forward: 'me@example.org', info: 'signup tests' },
        },
      },
    },
    responses: { 200: json(Address, 'The reserved address') },
    failures: {
      400: 'No private address credits left: release an address or add credits.',
      401: 'This address is owned by another account.',
      409: 'Reserved concurrently; try again.',
    },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    // Issue #16 item 3: the body (the PUT's settings) is validated before a credit is spent,
    // so a bad webhook reserves nothing. No body, or an empty one, reserves a bare address.
    const text = await c.req.text()
    const settings = text.trim() ? parseSettings(c, jsonBody(text)) : {}
    const db = database(c.env.DB)
    const email = inboxParam(c.req.param('email'))
    const outside = outsideService(c.env, email)
    if (outside) fail(outside.status, outside.message)
    const result = await reserveAddress(db, account, email)
    if (!result.ok) fail(result.status, result.message)
    const hasSettings = Object.values(settings).some((value) => value !== undefined)
    return c.json(
      addressJson(hasSettings ? await saveSettings(db, result.address, settings) : result.address),
    )
  },
)

async function updateSettings(c: Context<AppEnv>) {
  const account = requireAccount(c.get('account'))
  const email = inboxParam(c.req.param('email') as string)
  const settings = parseSettings(c, jsonBody(await c.req.text()))
  const db = database(c.env.DB)
  const address = await findPrivateAddress(db, email)
  if (!address) fail(400, 'This address is not reserved: reserve it before configuring it.')
  if (address.owner !== account.id) fail(401, 'This address is owned by another account.')
  return c.json(addressJson(await saveSettings(db, address, settings)))
}

/** The settings body; validated in updateSettings, whose schema depends on the environment. */
const settingsDescription = (summary: string, description: string) =>
  describe({
    tag: 'Addresses',
    access: 'account',
    summary,
    description,
    requestBody: {
      description: 'Fields left out keep their value; `""` or null turns a setting off.',
      content: {
        'application/json': {
          schema: resolver(addressSettingsSchema(false)),
          example: { webhook: 'https://hooks.example.net/mail', enablews: true },
        },
      },
    },
    responses: { 200: json(Address, 'The address with its new settings') },
    failures: {
      400: 'Invalid webhook: not a public https URL',
      401: 'This address is owned by another account.',
    },
  })

addressesRoutes.put(
  '/addresses/:email',
  settingsDescription(
    'Configure a private address',
    'Forwarding, webhook, Slack webhook, websocket publishing and a note.',
  ),
  updateSettings,
)

/**
 * `POST /api/addresses/:email/webhook-secret`: replaces the key that signs the address's
 * webhook requests, for when it leaked. Deliveries made from then on (retries included) are
 * signed with the new key. Not a Mailsac route: Mailsac does not sign webhooks.
 */
addressesRoutes.post(
  '/addresses/:email/webhook-secret',
  describe({
    tag: 'Addresses',
    access: 'account',
    summary: 'Rotate the webhook signing key',
    description:
      'A new `webhookSecret` for the address; webhook requests are signed with it from now on, retries included. Not a Mailsac route.',
    responses: { 200: json(Address, 'The address with its new webhookSecret') },
    failures: {
      400: 'This address is not reserved.',
      401: 'This address is owned by another account.',
    },
  }),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const email = inboxParam(c.req.param('email'))
    const db = database(c.env.DB)
    const updated = await rotateWebhookSecret(db, email, account.id, newWebhookSecret())
    if (updated) return c.json(addressJson(updated))
    const address = await findPrivateAddress(db, email)
    fail(
      address ? 401 : 400,
      address ? 'This address is owned by another account.' : 'This address is not reserved.',
    )
  },
)

addressesRoutes.delete(
  '/addresses/:email',
  describe({
    tag: 'Addresses',
    access: 'account',
    summary: 'Release a private address',
    description:
      'Gives the credit back. With `deleteAddressMessages=true` its mail is deleted first, while still private.',
    responses: { 200: json(AddressReleased, 'Released') },
    failures: {
      400: 'This address is not reserved.',
      401: 'This address is owned by another account.',
    },
  }),
  accountOnly,
  validate('query', deleteQuery),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const email = inboxParam(c.req.param('email'))
    const db = database(c.env.DB)
    const existing = await findPrivateAddress(db, email)
    if (!existing) fail(400, 'This address is not reserved.')
    if (existing.owner !== account.id) fail(401, 'This address is owned by another account.')
    if (c.req.valid('query').deleteAddressMessages === 'true') {
      // Before the release, while the mail is still private: nobody else sees it go.
      await releaseStorage(db, c.env.MAIL, await deleteAllInboxMessages(db, email))
    }
    if (await deletePrivateAddress(db, email, account.id)) {
      await adjustPrivateAddressCredits(db, account.id, 1)
    }
    return c.json({ _id: email, message: 'Address was released.' })
  },
)

addressesRoutes.get(
  '/addresses/:email/webhook-deliveries',
  describe({
    tag: 'Webhooks',
    access: 'account',
    summary: 'List webhook deliveries of an address',
    description:
      'What became of each webhook, Slack post and forward of its mail, newest first. Owner only.',
    responses: { 200: json(DeliveryList, 'Deliveries') },
    failures: { 401: 'Only the owner of this address can see its deliveries.' },
  }),
  accountOnly,
  validate('query', pageQuery),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const email = inboxParam(c.req.param('email'))
    const db = database(c.env.DB)
    // Targets (webhook and Slack URLs) and errors are the owner's business only.
    if ((await findInboxOwner(db, email)) !== account.id) {
      fail(401, 'Only the owner of this address can see its deliveries.')
    }
    const rows = await listAddressDeliveries(db, email, account.id, c.req.valid('query'))
    return c.json(rows.map(deliveryJson))
  },
)

// The seed's path for PUT /addresses/:email (updateSettings above). Registered here, after
// the webhook routes, so the OpenAPI document keeps its path order.
addressesRoutes.put(
  '/private-address-forwarding/:email',
  settingsDescription(
    'Configure a private address (seed path)',
    "The seed's path for PUT /api/addresses/{email}: the same body and answer.",
  ),
  updateSettings,
)

/**
 * Reserves many addresses and reports each: the address object when reserved, or
 * `{ _id, error, message }` when not (already owned, no credits left, invalid), so one bad
 * address does not undo the others.
 */
addressesRoutes.post(
  '/private-addresses-bulk',
  describe({
    tag: 'Addresses',
    access: 'account',
    summary: 'Reserve many private addresses',
    description: `Up to ${MAX_BULK_ADDRESSES} addresses; each is reserved or refused on its own, but with too few credits for all of them none is reserved (400).`,
    responses: { 200: json(BulkReservation, 'One result per address, in request order') },
    failures: { 400: 'Not enough private address credits to reserve 3 addresses.' },
  }),
  accountOnly,
  validate('json', bulkBody),
  async (c) => {
    const account = requireAccount(c.get('account'))
    const db = database(c.env.DB)
    type Entry = { input: string; email: string | null; refusal: Reservation | null }
    const entries: Entry[] = []
    const wanted = new Set<string>()
    for (const input of c.req.valid('json').addresses) {
      const email = normalizeAddress(input)
      const refusal = email
        ? (outsideService(c.env, email) ?? (await reservationRefusal(db, account, email)))
        : null
      if (email && !refusal) wanted.add(email)
      entries.push({ input, email, refusal })
    }
    // Issue #16 item 4 (Mailsac's contract): too few credits for every reservable address is a
    // 400 that reserves none. The credits are taken in one conditional update, so two bulk
    // requests cannot both pass the check.
    if (wanted.size && !(await adjustPrivateAddressCredits(db, account.id, -wanted.size))) {
      fail(400, `Not enough private address credits to reserve ${wanted.size} addresses.`)
    }
    const results = []
    for (const { input, email, refusal } of entries) {
      if (!email) {
        results.push({
          _id: input,
          error: 'Bad Request',
          message: `Invalid email address: ${input}`,
        })
        continue
      }
      // A repeated address was counted once: its second entry finds it owned.
      const result =
        refusal ??
        (wanted.delete(email)
          ? await reservePaid(db, account, email)
          : await reservationRefusal(db, account, email))
      results.push(
        result?.ok
          ? addressJson(result.address)
          : {
              _id: email,
              error: result?.status === 401 ? 'Unauthorized' : 'Bad Request',
              message: result?.message ?? 'You already own this address.',
            },
      )
    }
    return c.json(results)
  },
)
