import type { ServerResponse } from 'node:http'

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  422: 'unprocessable_entity',
  429: 'rate_limited',
}

/** Vercel's error code for a status; every 5xx is `internal_server_error`. */
export function vercelErrorCode(status: number): string {
  if (status >= 500) return 'internal_server_error'
  return CODES[status] ?? 'error'
}

/** A fake per-endpoint rate limit, so `rate_limited` bodies look like Vercel's. */
const RATE_LIMIT_TOTAL = 100

export interface RetryHints {
  retryAfter?: number | string | undefined
  retryAfterMs?: number | undefined
}

function resetAtMs(hints: RetryHints, now: number): number {
  if (hints.retryAfterMs !== undefined) return now + hints.retryAfterMs
  if (typeof hints.retryAfter === 'number') return now + hints.retryAfter * 1000
  if (typeof hints.retryAfter === 'string') {
    const date = Date.parse(hints.retryAfter)
    if (!Number.isNaN(date)) return date
  }
  return now + 60_000
}

/** Writes `{"error":{"code","message"}}` (plus `limit` for 429) with retry hints as headers. */
export function sendVercelError(
  res: ServerResponse,
  status: number,
  message: string,
  hints: RetryHints = {},
): void {
  const error: Record<string, unknown> = { code: vercelErrorCode(status), message }
  if (status === 429) {
    const resetMs = resetAtMs(hints, Date.now())
    error.limit = {
      remaining: 0,
      reset: Math.ceil(resetMs / 1000),
      resetMs,
      total: RATE_LIMIT_TOTAL,
    }
  }
  if (hints.retryAfter !== undefined) res.setHeader('Retry-After', String(hints.retryAfter))
  if (hints.retryAfterMs !== undefined) res.setHeader('retry-after-ms', String(hints.retryAfterMs))
  sendJson(res, status, { error })
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** Submit Prepayment Balances answers 201 with no body at all (clients must not parse it). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 })
  res.end()
}

/** What a route decided to answer; sent by {@link sendReply} so routes stay free of I/O. */
export type Reply =
  | { status: number; error: string }
  | { status: number; json: unknown }
  | { status: number; empty: true }

export function sendReply(res: ServerResponse, reply: Reply): void {
  if ('error' in reply) sendVercelError(res, reply.status, reply.error)
  else if ('json' in reply) sendJson(res, reply.status, reply.json)
  else sendEmpty(res, reply.status)
}
