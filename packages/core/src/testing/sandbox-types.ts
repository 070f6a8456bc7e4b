import type { Balance } from '../wire/balance-schema.js'

/** The two Vercel endpoints the sandbox emulates. */
export type SandboxRoute = 'submitBalances' | 'getInvoice'

/** Kinds of failure `setRandomFaults` draws from. */
export type RandomFaultKind = 408 | 429 | 500 | 502 | 503 | 504 | 'reset' | 'delay'

/**
 * One injected failure. It applies to the next request(s) that match `installationId` and
 * `route` (when given), in the order faults were injected.
 */
export interface SandboxFault {
  /** Only requests for this installation; default any. */
  installationId?: string
  /** Only requests to this endpoint; default any. */
  route?: SandboxRoute
  /** Answer with this status and a Vercel-shaped error body. Default 429 when a retry hint is set. */
  status?: number
  /** Sent as `Retry-After`: seconds (number) or an HTTP date (string). */
  retryAfter?: number | string
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number
  /** Wait this long before answering (or before handling normally when no status is set). */
  delayMs?: number
  /** Destroy the socket without answering: the client sees a connection reset. */
  reset?: boolean
  /**
   * A delayed request whose client hung up is normally dropped unapplied (recorded with
   * `outcome: 'client-closed'`). Set true to apply it anyway, as a real server might.
   */
  applyAfterDisconnect?: boolean
  /** How many matching requests this fault hits. Default 1; `Infinity` for all. */
  times?: number
}

export interface RandomFaultOptions {
  /** Probability in [0, 1] that a request (not hit by a queued fault) fails. */
  rate: number
  /** Seed of the PRNG, so a failing chaos run can be replayed. */
  seed: number
  /** Default: every kind. */
  kinds?: readonly RandomFaultKind[]
  /** Delay used by the `'delay'` kind. Default 100 ms. */
  delayMs?: number
  /** When set, random 429s carry `retry-after-ms` with this value. */
  retryAfterMs?: number
}

export interface SandboxInvoiceItem {
  total: string
  resourceId?: string
  billingPlanId?: string
  name?: string
  [key: string]: unknown
}

/** What Get Invoice returns; see PROTOCOL.md §3. */
export interface SandboxInvoice {
  invoiceId: string
  state:
    | 'draft'
    | 'pending'
    | 'scheduled'
    | 'issued'
    | 'paid'
    | 'notpaid'
    | 'refund_requested'
    | 'refunded'
  /** Decimal USD string, e.g. "12.50". */
  total: string
  items?: SandboxInvoiceItem[]
  [key: string]: unknown
}

/** How a recorded request ended. */
export type RequestOutcome = 'pending' | 'answered' | 'reset' | 'client-closed'

export interface RecordedRequest {
  /** The `X-Vercel-Id` the sandbox sent (or would have sent) back. */
  vercelId: string
  method: string
  path: string
  route: SandboxRoute | null
  installationId: string | null
  invoiceId: string | null
  /** Request headers without `authorization`. */
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown
  /** HTTP status sent; null while pending or when no answer was sent (reset, client gone). */
  status: number | null
  outcome: RequestOutcome
  /** Description of the injected fault that hit this request, if any. */
  fault: string | null
  receivedAt: Date
  durationMs: number | null
}

export interface LatestBalances {
  timestamp: string
  balances: Balance[]
  receivedAt: Date
}

export interface SandboxStats {
  /** Requests received, whatever their outcome. */
  requests: number
  /** Count per status sent, keyed by status ("201", "429", …). */
  byStatus: Record<string, number>
  /** Submissions answered with 201. */
  accepted: number
  /** Requests hit by an injected fault (status, reset or delay). */
  faultsInjected: number
  /** Connections reset on purpose. */
  resets: number
  /** Requests in flight right now. */
  inFlight: number
  maxInFlight: number
  /** Highest number of simultaneous requests seen for any single installation. */
  maxInFlightPerInstallation: number
  /** Accepted submissions whose `timestamp` was older than one already accepted for it. */
  timestampRegressions: number
}

export interface VercelSandboxOptions {
  /** Default 0: an ephemeral port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Larger bodies get 413. Default 1 MiB. */
  maxBodyBytes?: number
  /** Installations to create up front: id → access token. */
  installations?: Record<string, string>
}
