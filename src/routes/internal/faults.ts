import { Hono } from 'hono'
import { bearerToken } from '../../http/auth'
import { describe, json, OPERATOR } from '../../http/openapi/describe'
import { faultSetting } from '../../mail/faults'
import type { AppEnv } from '../../env'
import { FaultsBody } from './schema'

/**
 * `GET /internal/faults`: the SMTP fault-injection rules (#17.6) for the bridge, which applies
 * them in its MAIL, RCPT and DATA hooks and asks again every few seconds.
 */
export const faultsRoutes = new Hono<AppEnv>()

faultsRoutes.use('*', bearerToken('INGEST_TOKEN'))

faultsRoutes.get(
  '/',
  describe({
    tag: OPERATOR,
    access: 'ingest',
    summary: 'Get the SMTP fault-injection rules',
    description:
      'The rules of the SMTP_FAULTS var, validated: `rules: null` when fault injection is off (unset, empty or invalid).',
    responses: { 200: json(FaultsBody, 'The active rules') },
  }),
  (c) => c.json({ rules: faultSetting(c.env).rules }),
)
