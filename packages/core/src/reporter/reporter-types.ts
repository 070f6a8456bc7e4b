import type { Logger } from '../logger.js'
import type { BalanceStore, InstallationRecord, ReportOutcome } from '../store/store-types.js'
import type { Balance } from '../wire/balance-schema.js'
import type { Invoice } from '../wire/partner-api-schemas.js'

/** Why a report was sent. */
export type ReportReason = 'notify' | 'schedule' | 'report-all' | 'flush' | 'recovery'

/** Emitted once per report (not per HTTP attempt). Never contains the token. */
export interface ReportResult {
  installationId: string
  outcome: ReportOutcome
  reason: ReportReason
  /** HTTP attempts made (0 when nothing was sent). */
  attempts: number
  /** Wall time from reading balances to the final answer, in ms. */
  durationMs: number
  /** The `timestamp` sent, if a request was sent. */
  timestamp: string | null
  /** HTTP status of the last attempt, if any. */
  status: number | null
  /** Vercel's `X-Vercel-Id` response header, for support tickets. */
  vercelRequestId: string | null
  /** Why it was not delivered, if it was not. Never contains the token. */
  error: { code: string; message: string } | null
}

export interface ReportAllSummary {
  total: number
  delivered: number
  rejected: number
  gone: number
  invalid: number
  failed: number
  skipped: number
  durationMs: number
}

export type GetBalances = (
  installationId: string,
) => Promise<readonly Balance[]> | readonly Balance[]

export interface RetryOptions {
  /** Attempts per report, including the first. Default 5. */
  maxAttempts?: number
  /** First backoff delay. Default 500 ms. */
  initialDelayMs?: number
  /** Cap on one backoff delay. Default 30 s. */
  maxDelayMs?: number
  /** A `Retry-After` longer than this ends the report as `failed` (it stays pending). Default 60 s. */
  maxRetryAfterMs?: number
}

export interface BalanceReporterOptions {
  store: BalanceStore
  getBalances: GetBalances
  /** Vercel API origin. Default `https://api.vercel.com`. */
  apiUrl?: string
  /** Longest wait from the first unsent change to its request. Default 1000 ms. */
  coalesceMs?: number
  /** Every installation is reported at least this often. Default 3,600,000 ms (1 h). */
  reportIntervalMs?: number
  /** Requests in flight at once, across all installations. Default 16. */
  concurrency?: number
  /** Timeout of one HTTP attempt (connect to last body byte). Default 10,000 ms. */
  timeoutMs?: number
  retry?: RetryOptions
  /** Receives one call per report. Exceptions it throws are logged and swallowed. */
  onReport?: (result: ReportResult) => void
  /** Defaults to warnings and errors on the console. Pass `silentLogger` to mute. */
  logger?: Logger
  /** Start the schedule and crash recovery on creation. Default true (false suits serverless cron). */
  autoStart?: boolean
  /**
   * Stores shared by several processes (SQLite, PostgreSQL, Redis): how long a replica's claim
   * on an installation lasts without renewal. It is renewed every third of it while a report
   * runs; if the replica crashes, another one takes the installation over within about 4/3 of
   * it (20 s by default). Default 15,000 ms.
   */
  leaseMs?: number
}

export interface InstallationStatus extends InstallationRecord {
  /** True while this process has a report for it in flight (other replicas' are not seen). */
  inFlight: boolean
}

export interface BalanceReporter {
  /** Store an installation's token (from Upsert Installation) and schedule its first report. */
  saveInstallation(
    installationId: string,
    credentials: { accessToken: string; tokenType?: string },
  ): Promise<void>
  /** Stop reporting an installation and forget its token. */
  deleteInstallation(installationId: string): Promise<boolean>
  /** A balance changed: synchronous, O(1), no I/O inline, never throws. */
  notify(installationId: string): void
  /**
   * Resolves once every change notified so far is durably recorded as pending in the store
   * (it will be reported even if the process crashes now). `notify()` itself never waits.
   */
  persisted(): Promise<void>
  /** Resolves once every change notified so far was sent or failed permanently. */
  flush(): Promise<void>
  /** Reports every installation with a usable token now (bounded concurrency). */
  reportAll(): Promise<ReportAllSummary>
  /** Reports the installations whose last report is older than `reportIntervalMs`, plus pending ones. */
  reportDue(options?: { limit?: number }): Promise<ReportAllSummary>
  /** Reports one installation now and resolves with the result. */
  reportNow(installationId: string): Promise<ReportResult>
  /** Operator view of one installation; never includes the token. */
  getStatus(installationId: string): Promise<InstallationStatus | null>
  /**
   * Fetches an invoice from Vercel (Get Invoice) with the installation's stored token, retrying
   * transient failures. Throws `ERR_VERCEL_REQUEST` (with `status`) when Vercel refuses.
   */
  getInvoice(installationId: string, invoiceId: string): Promise<Invoice>
  /**
   * Reads an installation's current balances through the configured `getBalances`, validated
   * like a report would be (throws `ERR_INVALID_BALANCES` otherwise). Sends nothing to Vercel.
   * The Partner API uses it to answer Provision Purchase with `{ timestamp, balances }`.
   */
  getBalances(installationId: string): Promise<Balance[]>
  /** Subscribe to report results. Returns an unsubscribe function. */
  onReport(listener: (result: ReportResult) => void): () => void
  /** Stop timers, persist what is pending, close connections. */
  close(): Promise<void>
  /** The store in use (for adapters that need it). */
  readonly store: BalanceStore
}
