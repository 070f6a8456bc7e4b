import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { listenLocally } from '../testing/local-server.js'

/**
 * A tiny scripted HTTP server for the submitter's own tests: it answers each request with the
 * next step of a script, failing on purpose, and records what arrived and when. (The full
 * Vercel sandbox lives in ../testing; these tests must not depend on it, only on its
 * `listenLocally`.)
 */
export type Step =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Destroy the connection without answering (a connection reset for the client). */
  | { action: 'destroy' }
  /** Never answer (the client must time out). */
  | { action: 'hang' }
  /** Send the status line and half a body, then stall (the body timeout must fire). */
  | { action: 'stall-body'; status: number }

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
  /** `performance.now()` when the whole request had arrived. */
  atMs: number
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  url: string
  requests: RecordedRequest[]
  /** Queue steps for the next requests; once used up, `fallback` answers. */
  script(...steps: Step[]): void
  /** Called as each request arrives, before it is answered. */
  onRequest?: (request: RecordedRequest) => void
  /** TCP connections accepted so far (keep-alive reuses them). */
  connections(): number
  close(): Promise<void>
}

export async function startTestServer(fallback: Step = { status: 201 }): Promise<TestServer> {
  const queue: Step[] = []
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        atMs: performance.now(),
      }
      requests.push(recorded)
      handle.onRequest?.(recorded)
      const step = queue.shift() ?? fallback
      if ('action' in step) {
        if (step.action === 'destroy') req.socket.destroy()
        if (step.action === 'stall-body') {
          res.writeHead(step.status, {
            'content-type': 'application/json',
            'content-length': '100',
          })
          res.write('{"invoiceId":')
        }
        return
      }
      const answer = () => {
        res.writeHead(step.status, step.headers)
        res.end(step.body)
      }
      if (step.delayMs === undefined) answer()
      else setTimeout(answer, step.delayMs)
    })
  })
  let connections = 0
  server.on('connection', () => connections++)
  const listening = await listenLocally(server, {})
  const handle: TestServer = {
    url: listening.origin,
    requests,
    script: (...steps) => queue.push(...steps),
    connections: () => connections,
    close: listening.close,
  }
  return handle
}

/** A loopback URL on which nothing listens: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** Gaps in ms between consecutive recorded requests. */
export function gapsMs(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((request, index) => request.atMs - (requests[index]?.atMs ?? 0))
}
