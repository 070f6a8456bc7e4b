import { createServer } from 'node:http'
import type { RsaPublicJwk } from './jwt-signing.js'
import { listenLocally } from './local-server.js'

export interface JwksServer {
  /** `http://127.0.0.1:PORT` */
  origin: string
  /** Times the JWKS was fetched, to test caching and refresh on an unknown `kid`. */
  requestCount(): number
  close(): Promise<void>
}

const JWKS_PATHS = new Set(['/.well-known/jwks', '/.well-known/jwks.json'])

/** Serves `{ keys }` at both paths Vercel partners use; `keys()` is read on every request. */
export async function startJwksServer(
  keys: () => RsaPublicJwk[],
  options: { port?: number; host?: string },
): Promise<JwksServer> {
  let count = 0
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://issuer').pathname
    if (!JWKS_PATHS.has(path) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
      return
    }
    count++
    const text = JSON.stringify({ keys: keys() })
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      // Verifiers must cope with rotation themselves; the sandbox never lets HTTP caches help.
      'cache-control': 'no-store',
    })
    res.end(req.method === 'HEAD' ? undefined : text)
  })
  const listening = await listenLocally(server, options)
  return {
    origin: listening.origin,
    requestCount: () => count,
    close: listening.close,
  }
}
