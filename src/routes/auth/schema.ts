import { z } from 'zod'

// The response body of /api/auth/login (logout answers the shared Notice).

export const LoginResult = z
  .object({
    _id: z.string(),
    csrfToken: z.string().meta({ description: 'Send it as X-CSRF-Token on state changes' }),
  })
  .meta({ id: 'LoginResult', example: { _id: 'alice', csrfToken: 'c2a1f0e9d8' } })
