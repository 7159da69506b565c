// Address fields of POST /api/outgoing-messages: `a@x`, `Name <a@x>`, `"Doe, J" <a@x>` or
// `{address, name}`. Parsed by hand in one pass: a backtracking regex over `name <address>`
// took seconds of CPU on a few thousand spaces, and this runs before the credit check.
import { refuse as fail } from '../../lib/status-error'
import {
  MAX_HEADER_FIELD_CHARS,
  MAX_OUTGOING_NAME_BYTES,
  MAX_OUTGOING_RECIPIENTS,
} from '../../limits'
import { normalizeAddress } from '../../lib/address'

/** One address as the API accepts it: a string (`a@x`, `Name <a@x>`) or `{address, name}`. */
export type AddressInput = string | { address: string; name?: string | null }

export type Mailbox = { address: string; name: string }

const utf8 = new TextEncoder()

// A CR or LF in a header value would end the header and start one the caller chose
// (header injection: an extra Bcc, a forged Content-Type). NUL is refused for the same reason.
export function refuseLineBreaks(field: string, value: string) {
  if (/[\r\n\0]/.test(value)) {
    fail(400, `Invalid ${field}: must not contain CR, LF or NUL (header injection).`)
  }
}

/** Every value ends up in one header line, which RFC 5322 2.1.1 caps at 998 characters. */
function refuseOverlong(field: string, value: string) {
  if (value.length > MAX_HEADER_FIELD_CHARS) {
    fail(400, `Invalid ${field}: at most ${MAX_HEADER_FIELD_CHARS} characters.`)
  }
}

function byteLength(value: string): number {
  return utf8.encode(value).byteLength
}

/** Splits `a@x, "Doe, J" <b@y>` on the commas that separate addresses. */
function splitAddressList(list: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  let angle = false
  for (const char of list) {
    if (char === '"' && !angle) quoted = !quoted
    else if (char === '<' && !quoted) angle = true
    else if (char === '>' && !quoted) angle = false
    if (char === ',' && !quoted && !angle) {
      parts.push(current)
      current = ''
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts.map((part) => part.trim()).filter(Boolean)
}

/** The text of a quoted string `"…"` with its escapes undone, or null when it is not one. */
function unquote(text: string): string | null {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return null
  let name = ''
  for (let i = 1; i < text.length - 1; i++) {
    const char = text[i]
    if (char === '"') return null
    if (char === '\\') {
      i++
      if (i === text.length - 1) return null
      name += text[i]
    } else {
      name += char
    }
  }
  return name
}

/**
 * `Name <a@x>` or `"Name" <a@x>` as name and address, in one pass over the text; anything
 * else is taken whole as the address (and then refused if it is not one).
 */
export function splitNameAddress(input: string): Mailbox {
  const text = input.trim()
  const open = text.lastIndexOf('<')
  if (!text.endsWith('>') || open === -1) return { address: input, name: '' }
  const address = text.slice(open + 1, -1)
  if (address.includes('>')) return { address: input, name: '' }
  const display = text.slice(0, open).trim()
  if (display.startsWith('"')) {
    const name = unquote(display)
    return name === null ? { address: input, name: '' } : { address, name }
  }
  if (display.includes('"') || display.includes('<')) return { address: input, name: '' }
  return { address, name: display }
}

function mailbox(field: string, input: AddressInput): Mailbox {
  let address: string
  let name: string
  if (typeof input === 'string') {
    refuseOverlong(field, input)
    refuseLineBreaks(field, input)
    ;({ address, name } = splitNameAddress(input))
  } else {
    address = input.address
    name = input.name ?? ''
  }
  refuseOverlong(`${field} address`, address)
  refuseLineBreaks(`${field} address`, address)
  refuseLineBreaks(`${field} name`, name)
  if (byteLength(name) > MAX_OUTGOING_NAME_BYTES) {
    fail(400, `Invalid ${field} name: at most ${MAX_OUTGOING_NAME_BYTES} bytes.`)
  }
  const normalized = normalizeAddress(address)
  if (!normalized) fail(400, `Invalid ${field} address: ${address}`)
  return { address: normalized, name: name.trim() }
}

export function toMailboxes(input: string | AddressInput[]): Mailbox[] {
  const entries = typeof input === 'string' ? splitAddressList(input) : input
  if (entries.length === 0) fail(400, 'Invalid to: at least one recipient is required.')
  // Mailsac's TooManyRecipientsResponse, counted as given (before duplicates are merged).
  if (entries.length > MAX_OUTGOING_RECIPIENTS) {
    fail(400, 'The to field exceeds the maximum allowed size')
  }
  return entries.map((entry) => mailbox('to', entry))
}

export function fromMailbox(input: AddressInput | AddressInput[]): Mailbox {
  const entries = Array.isArray(input) ? input : [input]
  if (entries.length !== 1) fail(400, 'Invalid from: exactly one sender address is required.')
  return mailbox('from', entries[0])
}

export function distinct(addresses: string[]): string[] {
  return [...new Set(addresses)]
}
