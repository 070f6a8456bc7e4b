import type { SubmitBalancesBody } from '../wire/balance-schema.js'
import type { Invoice } from '../wire/partner-api-schemas.js'

/** The outcomes a single submission can end in (see `ReportOutcome`). */
export type SubmitOutcome = 'delivered' | 'rejected' | 'gone' | 'invalid' | 'failed' | 'skipped'

export interface SubmitRequest {
  installationId: string
  accessToken: string
  body: SubmitBalancesBody
  /** Aborts waiting between retries and the attempt in progress (e.g. on `close()`). */
  signal?: AbortSignal
  /**
   * More signals with the same effect, any of which aborts (e.g. the reporter's and a lease's):
   * cheaper than combining them with `AbortSignal.any`, which profiled at ~7 µs a call.
   */
  signals?: readonly AbortSignalLike[]
}

/**
 * What the submitter uses of a signal. `AbortSignal` fits; so does a lighter object that has no
 * EventTarget to set up (the reporter's per-lease signal).
 */
export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

export interface SubmitResult {
  outcome: SubmitOutcome
  /** HTTP attempts made. */
  attempts: number
  /** Status of the last attempt that got a response, else null. */
  status: number | null
  vercelRequestId: string | null
  /** Never contains the token. */
  error: { code: string; message: string } | null
}

export interface VercelClientOptions {
  apiUrl: string
  timeoutMs: number
  /** Keep-alive connections to Vercel. */
  connections: number
  retry: {
    maxAttempts: number
    initialDelayMs: number
    maxDelayMs: number
    maxRetryAfterMs: number
  }
  /** Injected for tests: a number in [0, 1). Default Math.random. */
  random?: () => number
  /**
   * Injected for tests: the wall clock in ms, used to turn a `Retry-After` HTTP date into a wait
   * and to time the shared rate-limit gate. Default `Date.now`.
   */
  now?: () => number
  /**
   * Called before each retry wait (for logging and tests). `attempt` is the 1-based number of
   * the attempt that just failed; `delayMs` is the wait before the next one.
   */
  onRetry?: (info: {
    installationId: string
    attempt: number
    delayMs: number
    reason: string
  }) => void
}

/** The only place that talks HTTP to Vercel. Undici stays behind this interface. */
export interface VercelClient {
  submitBalances(request: SubmitRequest): Promise<SubmitResult>
  /** Throws PrepaidBalancesError ERR_VERCEL_REQUEST (with `.status`) on a refused or failed request. */
  getInvoice(request: {
    installationId: string
    accessToken: string
    invoiceId: string
    signal?: AbortSignal
  }): Promise<Invoice>
  close(): Promise<void>
}
