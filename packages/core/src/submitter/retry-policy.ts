/**
 * The one place that decides what is retried and how long to wait (the stripe-node model).
 * Everything here is pure: no I/O, no timers, the clock and randomness are passed in, so the
 * policy is unit-tested without a server.
 */

export interface RetryPolicy {
  /** Total HTTP attempts, the first one included. */
  maxAttempts: number
  initialDelayMs: number
  maxDelayMs: number
  /** A server asking for a longer wait than this ends the submission as `failed`. */
  maxRetryAfterMs: number
}

/** What a final HTTP status means for a submission; `retryable` is transient. */
export type StatusClass = 'delivered' | 'rejected' | 'gone' | 'invalid' | 'retryable'

/**
 * 2xx delivered; 408, 429 and 5xx transient; 401/403 the token is refused; 404/410 the
 * installation is gone; every other status (400, 422, other 4xx, stray 1xx/3xx) means the
 * request itself is wrong and repeating it cannot help.
 */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'delivered'
  if (status === 408 || status === 429 || status >= 500) return 'retryable'
  if (status === 401 || status === 403) return 'rejected'
  if (status === 404 || status === 410) return 'gone'
  return 'invalid'
}

/** Low-level codes of failures where the request may never have reached Vercel, or may again. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
])

/**
 * The `code` of an error or of one of its causes (undici wraps socket errors), or null.
 * Only the code is ever surfaced: undici errors can carry request details, including headers.
 */
export function networkErrorCode(error: unknown): string | null {
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return code
    current = (current as { cause?: unknown }).cause
  }
  const topCode = (error as { code?: unknown } | null)?.code
  return typeof topCode === 'string' ? topCode : null
}

export function isRetryableNetworkError(error: unknown): boolean {
  return isRetryableCode(networkErrorCode(error))
}

function isRetryableCode(code: string | null): boolean {
  return code !== null && RETRYABLE_NETWORK_CODES.has(code)
}

/**
 * How long the server asked us to wait, in ms, or null when it did not say (or said nonsense).
 * `retry-after-ms` (non-standard, used by Vercel's SDK generator) wins over `Retry-After`,
 * which is either delta-seconds or an HTTP date; a date in the past means "now" (0).
 */
export function parseRetryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): number | null {
  const retryAfterMs = firstHeader(headers['retry-after-ms'])
  if (retryAfterMs !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(retryAfterMs)) {
    return Math.ceil(Number(retryAfterMs))
  }
  const retryAfter = firstHeader(headers['retry-after'])?.trim()
  if (retryAfter === undefined || retryAfter === '') return null
  if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000
  // Date.parse would also accept bare numbers like "-1" or "1.5"; require something date-like.
  if (!/[a-z]/i.test(retryAfter)) return null
  const dateMs = Date.parse(retryAfter)
  if (Number.isNaN(dateMs)) return null
  return Math.max(0, dateMs - nowMs)
}

/**
 * Capped exponential backoff with equal jitter: retry n waits in [cap/2, cap] where
 * cap = min(maxDelayMs, initialDelayMs * 2^(n-1)). Equal jitter (rather than full jitter) keeps
 * a floor so a struggling server is never hit again immediately, while still spreading clients.
 */
export function backoffDelayMs(
  retryNumber: number,
  policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const exponent = Math.max(0, retryNumber - 1)
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent)
  const half = cap / 2
  return Math.round(half + half * clampUnit(random()))
}

/** Why an attempt did not deliver, as far as the retry decision cares. */
export type AttemptFailure =
  | { kind: 'status'; status: number; retryAfterMs: number | null }
  | { kind: 'network'; code: string | null }
  | { kind: 'timeout' }

export type RetryDecision =
  | { retry: true; delayMs: number; reason: string }
  | { retry: false; why: 'not_retryable' | 'attempts_exhausted' | 'retry_after_too_long' }

/**
 * Whether to try again after `attemptsMade` attempts, and after how long. A server-requested
 * wait is a floor (never jittered below); above `maxRetryAfterMs` we give up instead of
 * holding a submission for an unbounded time.
 */
export function decideRetry(
  failure: AttemptFailure,
  attemptsMade: number,
  policy: RetryPolicy,
  random: () => number,
): RetryDecision {
  if (failure.kind === 'status' && classifyStatus(failure.status) !== 'retryable') {
    return { retry: false, why: 'not_retryable' }
  }
  if (failure.kind === 'network' && !isRetryableCode(failure.code)) {
    return { retry: false, why: 'not_retryable' }
  }
  const retryAfterMs = failure.kind === 'status' ? failure.retryAfterMs : null
  if (retryAfterMs !== null && retryAfterMs > policy.maxRetryAfterMs) {
    return { retry: false, why: 'retry_after_too_long' }
  }
  if (attemptsMade >= policy.maxAttempts) return { retry: false, why: 'attempts_exhausted' }
  const backoff = backoffDelayMs(attemptsMade, policy, random)
  return {
    retry: true,
    delayMs: retryAfterMs === null ? backoff : Math.max(retryAfterMs, backoff),
    reason: describeFailure(failure),
  }
}

export function describeFailure(failure: AttemptFailure): string {
  if (failure.kind === 'status') return `http_${failure.status}`
  if (failure.kind === 'timeout') return 'timeout'
  return `connection_error${failure.code === null ? '' : ` (${failure.code})`}`
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0
  return Math.min(value, 1)
}
