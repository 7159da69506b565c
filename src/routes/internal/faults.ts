import { Hono } from 'hono'
import { database } from '../../db/client'
import { clearRuntimeFaults, saveRuntimeFaults } from '../../db/queries/faults'
import { bearerToken } from '../../http/auth'
import { describe, json, OPERATOR } from '../../http/openapi/describe'
import { validate } from '../../http/validation'
import { activeFaults, forgetCachedFaults } from '../../mail/faults'
import type { AppEnv } from '../../env'
import { FaultsBody, FaultsUpdate } from './schema'

/**
 * `/internal/faults`: the SMTP fault-injection rules (#17.6). GET is the bridge's (INGEST_TOKEN):
 * it applies them in its MAIL, RCPT and DATA hooks and asks again every few seconds. PUT and
 * DELETE are the operator's (ADMIN_TOKEN), like Mailpit's chaos API: rules set at runtime,
 * kept in D1 so every isolate and the bridge see them, replacing SMTP_FAULTS until DELETE.
 */
export const faultsRoutes = new Hono<AppEnv>()

async function activeJson(c: { env: Env }) {
  const setting = await activeFaults(database(c.env.DB), c.env)
  return { rules: setting.rules, source: setting.source }
}

faultsRoutes.get(
  '/',
  describe({
    tag: OPERATOR,
    access: 'ingest',
    summary: 'Get the SMTP fault-injection rules',
    description:
      'The rules in force: those of PUT /internal/faults while set, else the SMTP_FAULTS var, validated. ' +
      '`rules: null` when fault injection is off (unset, empty or invalid).',
    responses: { 200: json(FaultsBody, 'The active rules') },
  }),
  bearerToken('INGEST_TOKEN'),
  async (c) => c.json(await activeJson(c)),
)

faultsRoutes.put(
  '/',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Set the SMTP fault-injection rules at runtime',
    description:
      'Replaces the active rules (same format as SMTP_FAULTS) until DELETE; `rules: []` turns ' +
      'injection off even while SMTP_FAULTS has rules. The bridge picks them up within 5 s.',
    responses: { 200: json(FaultsBody, 'The rules now active') },
    failures: { 400: 'Invalid rules: the reason (stage, code 400-599, probability 0-1, ...).' },
  }),
  bearerToken('ADMIN_TOKEN'),
  validate('json', FaultsUpdate),
  async (c) => {
    const { rules } = c.req.valid('json')
    await saveRuntimeFaults(database(c.env.DB), JSON.stringify(rules), new Date())
    forgetCachedFaults()
    return c.json(await activeJson(c))
  },
)

faultsRoutes.delete(
  '/',
  describe({
    tag: OPERATOR,
    access: 'admin',
    summary: 'Clear the runtime SMTP fault-injection rules',
    description: 'Back to the SMTP_FAULTS var (off when it is unset).',
    responses: { 200: json(FaultsBody, 'The rules now active') },
  }),
  bearerToken('ADMIN_TOKEN'),
  async (c) => {
    await clearRuntimeFaults(database(c.env.DB))
    forgetCachedFaults()
    return c.json(await activeJson(c))
  },
)
