/**
 * The listen/close handle both SMTP listeners (ingest and submission) expose to index.js.
 * @param {import('smtp-server').SMTPServer} server
 */
export function smtpLifecycle(server) {
  return {
    /** @param {number} port @param {string} host @returns {Promise<number>} the bound port */
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject)
        server.listen(port, host, () => {
          server.server.off('error', reject)
          resolve(/** @type {import('node:net').AddressInfo} */ (server.server.address()).port)
        })
      })
    },

    /**
     * Stops accepting; smtp-server lets a DATA in flight finish and answers 421 to anything
     * else, then cuts what remains after the grace period.
     * @returns {Promise<void>}
     */
    close() {
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
