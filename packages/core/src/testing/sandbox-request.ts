import type { IncomingMessage } from 'node:http'
import type { SandboxRoute } from './sandbox-types.js'

export interface RouteMatch {
  route: SandboxRoute
  installationId: string
  invoiceId: string | null
  /** The one method the endpoint accepts. */
  method: 'POST' | 'GET'
}

const BALANCE_PATH = /^\/v1\/installations\/([^/]+)\/billing\/balance\/?$/
const INVOICE_PATH = /^\/v1\/installations\/([^/]+)\/billing\/invoices\/([^/]+)\/?$/

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}

/** Maps a path onto one of the emulated endpoints; null for anything else. */
export function matchRoute(pathname: string): RouteMatch | null {
  const balance = BALANCE_PATH.exec(pathname)
  if (balance?.[1]) {
    const installationId = decode(balance[1])
    if (installationId === null) return null
    return { route: 'submitBalances', installationId, invoiceId: null, method: 'POST' }
  }
  const invoice = INVOICE_PATH.exec(pathname)
  if (invoice?.[1] && invoice[2]) {
    const installationId = decode(invoice[1])
    const invoiceId = decode(invoice[2])
    if (installationId === null || invoiceId === null) return null
    return { route: 'getInvoice', installationId, invoiceId, method: 'GET' }
  }
  return null
}

/** The token of a well-formed `Authorization: Bearer <token>` header, else null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '')
  return match?.[1] ?? null
}

export function isJsonContentType(header: string | undefined): boolean {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase()
  return mediaType === 'application/json'
}

export type BodyResult = { ok: true; text: string } | { ok: false; reason: 'too-large' | 'aborted' }

/**
 * Reads the whole body as UTF-8, giving up at `maxBytes`. An oversized body is drained rather
 * than left unread so the 413 can still reach the client.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume()
      resolve({ ok: false, reason: 'too-large' })
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) tooLarge = true
      if (!tooLarge) chunks.push(chunk)
    })
    req.on('end', () =>
      resolve(
        tooLarge
          ? { ok: false, reason: 'too-large' }
          : { ok: true, text: Buffer.concat(chunks).toString('utf8') },
      ),
    )
    req.on('error', () => resolve({ ok: false, reason: 'aborted' }))
    req.on('close', () => {
      if (!req.complete) resolve({ ok: false, reason: 'aborted' })
    })
  })
}

/** The body as recorded: parsed JSON when possible, the raw text otherwise. */
export function parseForRecord(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function headersWithoutAuthorization(
  req: IncomingMessage,
): Record<string, string | string[] | undefined> {
  const { authorization: _secret, ...rest } = req.headers
  return rest
}
