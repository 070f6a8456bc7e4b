import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ListeningServer {
  /** `http://HOST:PORT`, with IPv6 hosts bracketed. */
  origin: string
  /** Closes the server and every open (keep-alive) connection; idempotent. */
  close(): Promise<void>
}

/**
 * Listens on `host` (default 127.0.0.1) and an ephemeral port unless one is given. Closing also
 * drops keep-alive connections, so a test's `close()` never waits on an idle client socket.
 */
export async function listenLocally(
  server: Server,
  options: { port?: number; host?: string },
): Promise<ListeningServer> {
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}
