import { isPrepaidBalancesError } from '../errors.js'
import type {
  BalanceStore,
  ReportOutcome,
  StoredCredentials,
  StoreWrite,
} from '../store/store-types.js'
import type { SubmitResult, VercelClient } from '../submitter/submitter-types.js'
import type { Acquisition, ActiveLease } from './lease-coordinator.js'
import { laterTimestamp, nextTimestamp } from './monotonic-timestamp.js'
import type { GetBalances, ReportReason, ReportResult } from './reporter-types.js'
import { validateBalances } from './validate-balances.js'

export interface SendReportDeps {
  store: BalanceStore
  client: VercelClient
  getBalances: GetBalances
  /**
   * Persists `reportStarted` before the request goes out, so its timestamp is never reused.
   * Not called for a report whose lease claim reserved its timestamp (see `usableReservation`).
   */
  persistStart(write: StoreWrite): Promise<void>
  signal: AbortSignal
  /**
   * Stores shared by several processes: takes the installation's lease before anything is
   * read, so that at most one process reports it at a time (see `LeaseCoordinator`).
   */
  acquire?: (installationId: string, reason: ReportReason) => Acquisition | Promise<Acquisition>
}

export interface SendReportOutcome {
  result: ReportResult
  /**
   * The write recording the result. `clearPending` is false here: the caller, which knows
   * whether newer requests arrived, sets it on this object (built for it alone) before storing.
   */
  finished: Extract<StoreWrite, { type: 'reportFinished' }> | null
  /** Timestamp sent, for the caller's in-memory monotonic floor. */
  timestamp: string | null
  /** Set when the report did not start because another process holds the lease: retry then. */
  retryInMs?: number
}

/** An installation ready to report without a lease (stores without `leases`). */
interface Unleased {
  kind: 'unleased'
  credentials: StoredCredentials
  lastTimestamp: string | null
  lease?: undefined
  reserved?: undefined
}

type Opened = Acquisition | Unleased

/**
 * How old a reserved timestamp may be when its report reads the balances. The reservation is
 * made when the lease is claimed ahead, before the read, so the balances reflect the ledger at
 * or after it; but the timestamp also says when they were read (Vercel keeps the latest report
 * per day, week and month by it), so a report that waited longer than this for its turn takes a
 * fresh timestamp and stores it itself, as a report without a reservation does.
 */
export const RESERVATION_FRESH_MS = 1000

/**
 * One report for one installation: read token and balances, validate, send, classify.
 * Never throws: every failure becomes a `ReportResult` with an outcome and an error code.
 * This runs once per report: the way that ends in a request builds no closure and no object it
 * does not hand on (helpers for the other ways are module functions).
 */
export async function sendReport(
  deps: SendReportDeps,
  installationId: string,
  reason: ReportReason,
  memoryFloor: string | null,
): Promise<SendReportOutcome> {
  const started = Date.now()
  let opened: Opened
  try {
    opened = deps.acquire
      ? await deps.acquire(installationId, reason)
      : await openUnleased(deps.store, installationId)
  } catch (error) {
    return notSent(installationId, reason, started, 'failed', describe(error, 'store_read_failed'))
  }
  if (opened.kind === 'retry') {
    const error = { code: 'lease_held', message: 'another process is reporting this installation' }
    return notSent(installationId, reason, started, 'skipped', error, opened.retryInMs)
  }
  if (opened.kind === 'skip') {
    return notSent(installationId, reason, started, 'skipped', opened.error)
  }

  const { credentials, lease } = opened
  try {
    // Taken before the read: the balances returned reflect the ledger at or after this instant.
    const now = Date.now()
    const floor = laterTimestamp(opened.lastTimestamp, memoryFloor)
    const reserved = usableReservation(opened.reserved, floor, now)
    // A reservation not used is skipped over: it is stored, so it is this report's floor.
    const timestamp =
      reserved ?? nextTimestamp(now, laterTimestamp(floor, opened.reserved?.timestamp))
    let balances: ReturnType<typeof validateBalances>
    try {
      balances = validateBalances(installationId, await deps.getBalances(installationId))
    } catch (cause) {
      const invalid = isPrepaidBalancesError(cause, 'ERR_INVALID_BALANCES')
      const outcome = invalid ? 'invalid' : 'failed'
      const error = describe(cause, invalid ? 'invalid_balances' : 'get_balances_failed')
      const finishedAt = Date.now()
      const result = reportResult(installationId, reason, outcome, error, finishedAt - started)
      return {
        result,
        finished: finishedWrite(installationId, credentials, lease, outcome, finishedAt, null),
        timestamp: null,
      }
    }

    try {
      // A reserved timestamp was stored by the claim: no write needs to land before the request.
      if (!reserved) {
        await deps.persistStart({
          type: 'reportStarted',
          installationId,
          timestamp,
          at: Date.now(),
        })
      }
    } catch (error) {
      await lease?.release()
      return notSent(
        installationId,
        reason,
        started,
        'failed',
        describe(error, 'store_write_failed'),
      )
    }

    const submitted: SubmitResult = await deps.client.submitBalances({
      installationId,
      accessToken: credentials.accessToken,
      body: { timestamp, balances },
      // One list (the client would otherwise build it from `signal` and `signals`).
      signals: lease ? [deps.signal, lease.signal] : [deps.signal],
    })
    const finishedAt = Date.now()
    const result: ReportResult = {
      installationId,
      reason,
      outcome: submitted.outcome,
      attempts: submitted.attempts,
      status: submitted.status,
      vercelRequestId: submitted.vercelRequestId,
      error: submitted.error,
      timestamp,
      durationMs: finishedAt - started,
    }
    const finished = finishedWrite(
      installationId,
      credentials,
      lease,
      submitted.outcome,
      finishedAt,
      submitted.status,
    )
    if (submitted.outcome === 'rejected' || submitted.outcome === 'gone') {
      finished.tokenState = submitted.outcome
    }
    return { result, finished, timestamp }
  } finally {
    lease?.end()
  }
}

/** A stored record of how the report ended (`clearPending` is the caller's to set). */
function finishedWrite(
  installationId: string,
  credentials: StoredCredentials,
  lease: ActiveLease | undefined,
  outcome: ReportOutcome,
  at: number,
  status: number | null,
): Extract<StoreWrite, { type: 'reportFinished' }> {
  const finished: Extract<StoreWrite, { type: 'reportFinished' }> = {
    type: 'reportFinished',
    installationId,
    tokenGeneration: credentials.tokenGeneration,
    outcome,
    at,
    status,
    clearPending: false,
  }
  if (lease) finished.lease = { token: lease.token, pendingSeq: lease.pendingSeq }
  return finished
}

/** A report that sent nothing and stores nothing. */
function notSent(
  installationId: string,
  reason: ReportReason,
  started: number,
  outcome: ReportResult['outcome'],
  error: ReportResult['error'],
  retryInMs?: number,
): SendReportOutcome {
  const result = reportResult(installationId, reason, outcome, error, Date.now() - started)
  return retryInMs === undefined
    ? { result, finished: null, timestamp: null }
    : { result, finished: null, timestamp: null, retryInMs }
}

function reportResult(
  installationId: string,
  reason: ReportReason,
  outcome: ReportResult['outcome'],
  error: ReportResult['error'],
  durationMs: number,
): ReportResult {
  return {
    installationId,
    reason,
    attempts: 0,
    status: null,
    vercelRequestId: null,
    outcome,
    error,
    timestamp: null,
    durationMs,
  }
}

/** What a report needs before reading balances, for a store without leases. */
async function openUnleased(store: BalanceStore, installationId: string): Promise<Opened> {
  const [credentials, record] = await Promise.all([
    store.getCredentials(installationId),
    store.getInstallation(installationId),
  ])
  if (!credentials) {
    return skip('unknown_installation', 'no stored token for installation')
  }
  if (credentials.tokenState !== 'active') {
    return skip(
      `token_${credentials.tokenState}`,
      `token is ${credentials.tokenState}; waiting for a new Upsert Installation`,
    )
  }
  return { kind: 'unleased', credentials, lastTimestamp: record?.lastTimestamp ?? null }
}

const DAY_MS = 86_400_000

/**
 * The reserved timestamp, if this report may send it as is: reserved recently enough (see
 * `RESERVATION_FRESH_MS`), on the same UTC day as now (Vercel keeps the latest report per day,
 * week and month: balances read just after midnight must not be labelled with the day before),
 * and later than every timestamp this process has sent for the installation (the store's floor
 * already covers other processes; this guards the rest).
 */
export function usableReservation(
  reserved: { timestamp: string; at: number } | undefined,
  floor: string | null,
  now: number,
): string | null {
  if (!reserved || now - reserved.at > RESERVATION_FRESH_MS) return null
  const reservedMs = Date.parse(reserved.timestamp)
  if (Math.floor(reservedMs / DAY_MS) !== Math.floor(now / DAY_MS)) return null
  if (floor && Date.parse(floor) >= reservedMs) return null
  return reserved.timestamp
}

function skip(code: string, message: string): Opened {
  return { kind: 'skip', error: { code, message } }
}

function describe(error: unknown, fallbackCode: string): { code: string; message: string } {
  if (isPrepaidBalancesError(error)) return { code: error.code, message: error.message }
  const message = error instanceof Error ? error.message : String(error)
  return { code: fallbackCode, message }
}
