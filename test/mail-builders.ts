// Messages built for the stats, retention and deny-list tests: exact senders, recipients and
// attachment bytes, so the tests can predict every count and MD5.

export type TestFile = { name: string; type: string; bytes: Uint8Array }

export function textFile(name: string, text: string): TestFile {
  return { name, type: 'text/plain', bytes: new TextEncoder().encode(text) }
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

/** A CRLF message from `from` to `to`, carrying `files` as attachments (repeats allowed). */
export function mimeMessage(options: {
  to: string
  from?: string
  subject?: string
  files?: TestFile[]
}): Uint8Array {
  const files = options.files ?? []
  const head = [
    `From: ${options.from ?? 'Sender <sender@example.org>'}`,
    `To: ${options.to}`,
    `Subject: ${options.subject ?? 'Stats'}`,
    `Message-ID: <${crypto.randomUUID()}@example.org>`,
    'Date: Tue, 10 Mar 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
  ]
  if (files.length === 0) {
    return new TextEncoder().encode(
      [...head, 'Content-Type: text/plain', '', 'Hello', ''].join('\r\n'),
    )
  }
  const parts = files.flatMap((file) => [
    '--b',
    `Content-Type: ${file.type}; name="${file.name}"`,
    `Content-Disposition: attachment; filename="${file.name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    base64(file.bytes),
  ])
  return new TextEncoder().encode(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'See attached',
      ...parts,
      '--b--',
      '',
    ].join('\r\n'),
  )
}
