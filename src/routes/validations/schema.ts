import { z } from 'zod'
import { MAX_VALIDATIONS_PER_REQUEST } from '../../limits'
import { listOf } from '../../http/openapi/common'

/** The body of `POST /api/validations/addresses` (Mailsac: `{ emails: EmailStringList }`). */
export const validationsBody = z.object({
  emails: z.array(z.string().max(320)).min(1).max(MAX_VALIDATIONS_PER_REQUEST),
})

const example = {
  email: 'jeff@mailinator.com',
  validFormat: true,
  local: 'jeff',
  domain: 'mailinator.com',
  isDisposable: true,
  disposableDomains: ['mailinator.com'],
  aliases: ['mail.mailinator.com'],
}

/** `validateAddresses()` in src/mail/validation.ts. */
export const EmailAddressIntegrity = z
  .object({
    email: z.string().meta({ description: 'The address checked (lower-cased when valid)' }),
    validFormat: z.boolean(),
    local: z.string().meta({ description: 'Before the last @' }),
    domain: z.string().meta({ description: 'After the last @' }),
    isDisposable: z.boolean().meta({
      description:
        'The domain or one of its MX hosts receives at a disposable provider: this service, or one on the disposable-email-domains list',
    }),
    disposableDomains: z.array(z.string()).meta({
      description: 'Which of the domain and its MX hosts are disposable',
    }),
    aliases: z.array(z.string()).meta({
      description: "The domain's MX hosts, by preference (empty when DNS did not answer)",
    }),
  })
  .meta({ id: 'EmailAddressIntegrity', example })

export const EmailAddressIntegrityList = listOf(EmailAddressIntegrity, 'EmailAddressIntegrityList')
