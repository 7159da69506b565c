import type { HeaderList } from '../db/schema'

/**
 * What the topmost `Received:` header says about the hop that took the message in: the SMTP
 * bridge writes one (bridge/src/smtp/trace.js), Cloudflare Email Routing writes its own.
 * Read once at ingest and kept on each row (messages.via/rtls); mail stored before 0012 has null.
 */
export type ReceivingHop = {
  /** The receiving host (`by`), Mailsac's `via`; null when no header names one. */
  via: string | null
  /** The hop used TLS (RFC 3848 `with ESMTPS`/`ESMTPSA`, or a `using TLS` comment); null when unknown. */
  rtls: boolean | null
}

/** RFC 3848's WITH values for a session under TLS. */
const TLS_PROTOCOL = /\bwith\s+(?:UTF8)?(?:E?SMTPS|ESMTPSA|LMTPSA?)\b/i
const PROTOCOL = /\bwith\s+[A-Z0-9]+/i
const BY_HOST = /\bby\s+([A-Za-z0-9.:[\]-]+)/i

export function receivingHop(headers: HeaderList): ReceivingHop {
  const received = headers.find(([name]) => name.toLowerCase() === 'received')?.[1]
  if (!received) return { via: null, rtls: null }
  const text = received.replace(/\s+/g, ' ')
  const rtls =
    TLS_PROTOCOL.test(text) || /\(using TLS/i.test(text) ? true : PROTOCOL.test(text) ? false : null
  return { via: BY_HOST.exec(text)?.[1]?.toLowerCase() ?? null, rtls }
}
