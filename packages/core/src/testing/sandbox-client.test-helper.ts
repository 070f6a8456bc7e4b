import { request } from 'undici'
import type { VercelSandbox } from './sandbox-server.js'

/** What a test needs from a response; the body is read as text so an empty 201 stays visible. */
export interface SandboxReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: () => unknown
}

export interface CallOptions {
  /** Bearer token; null sends no Authorization header. Default `token-a`. */
  token?: string | null
  /** Raw Authorization header, overriding `token`. */
  authorization?: string
  body?: unknown
  rawBody?: string
  contentType?: string | null
  method?: string
  /** Abort the request after this long (undici's own timeouts have ~1 s granularity). */
  timeoutMs?: number
}

/** Sends one request to the sandbox with undici, like a real client would. */
export async function callSandbox(
  sandbox: VercelSandbox,
  path: string,
  options: CallOptions = {},
): Promise<SandboxReply> {
  const headers: Record<string, string> = {}
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? 'token-a'}`
  if (options.authorization !== undefined) headers.authorization = options.authorization
  const hasBody = options.body !== undefined || options.rawBody !== undefined
  if (hasBody && options.contentType !== null) {
    headers['content-type'] = options.contentType ?? 'application/json'
  }
  const response = await request(`${sandbox.url}${path}`, {
    method: (options.method ?? (hasBody ? 'POST' : 'GET')) as 'POST',
    headers,
    body:
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  })
  const text = await response.body.text()
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: () => JSON.parse(text),
  }
}

export const balancePath = (installationId: string) =>
  `/v1/installations/${installationId}/billing/balance`

export const validBody = (timestamp = '2025-01-01T00:00:00.000Z', cents = 1234) => ({
  timestamp,
  balances: [{ currencyValueInCents: cents, credit: `${cents} Tokens`, nameLabel: 'Tokens' }],
})

export function submit(
  sandbox: VercelSandbox,
  installationId: string,
  body: unknown = validBody(),
  options: CallOptions = {},
): Promise<SandboxReply> {
  return callSandbox(sandbox, balancePath(installationId), { body, ...options })
}
