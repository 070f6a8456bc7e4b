import { isPrepaidBalancesError } from '../errors.js'
import type {
  BalanceStore,
  StoredCredentials,
  StoreWrite,
  TokenState,
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
  acquire?: (installationId: string, reason: ReportReason) => Promise<Acquisition>
}

export interface SendReportOutcome {
  result: ReportResult
  /** The write recording the result (the caller decides `clearPending`). */
  finished: Omit<Extract<StoreWrite, { type: 'reportFinished' }>, 'clearPending'> | null
  /** Timestamp sent, for the caller's in-memory monotonic floor. */
  timestamp: string | null
  /** Set when the report did not start because another process holds the lease: retry then. */
  retryInMs?: number
}

type Opened =
  | {
      kind: 'ready'
      credentials: StoredCredentials
      lastTimestamp: string | null
      lease: ActiveLease | undefined
      reserved: { timestamp: string; at: number } | undefined
    }
  | Exclude<Acquisition, { kind: 'claimed' }>

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
 */
export async function sendReport(
  deps: SendReportDeps,
  installationId: string,
  reason: ReportReason,
  memoryFloor: string | null,
): Promise<SendReportOutcome> {
  const started = Date.now()
  const base = { installationId, reason, attempts: 0, status: null, vercelRequestId: null }
  const done = (
    outcome: ReportResult['outcome'],
    error: ReportResult['error'],
    timestamp: string | null = null,
  ): ReportResult => ({ ...base, outcome, error, timestamp, durationMs: Date.now() - started })
  const early = (result: ReportResult, retryInMs?: number): SendReportOutcome => ({
    result,
    finished: null,
    timestamp: null,
    ...(retryInMs === undefined ? {} : { retryInMs }),
  })

  let opened: Opened
  try {
    opened = await open(deps, installationId, reason, memoryFloor)
  } catch (error) {
    return early(done('failed', describe(error, 'store_read_failed')))
  }
  if (opened.kind === 'retry') {
    const error = { code: 'lease_held', message: 'another process is reporting this installation' }
    return early(done('skipped', error), opened.retryInMs)
  }
  if (opened.kind === 'skip') return early(done('skipped', opened.error))

  const { credentials, lease } = opened
  try {
    // Taken before the read: the balances returned reflect the ledger at or after this instant.
    const now = Date.now()
    const reserved = usableReservation(opened.reserved, opened.lastTimestamp, now)
    // A reservation not used is skipped over: it is stored, so it is this report's floor.
    const lastTimestamp = laterTimestamp(opened.lastTimestamp, opened.reserved?.timestamp)
    const timestamp = reserved ?? nextTimestamp(now, lastTimestamp)
    const finishedBase = {
      type: 'reportFinished' as const,
      installationId,
      tokenGeneration: credentials.tokenGeneration,
      ...(lease ? { lease: { token: lease.token, pendingSeq: lease.pendingSeq } } : {}),
    }
    let balances: ReturnType<typeof validateBalances>
    try {
      balances = validateBalances(installationId, await deps.getBalances(installationId))
    } catch (error) {
      const invalid = isPrepaidBalancesError(error, 'ERR_INVALID_BALANCES')
      const outcome = invalid ? 'invalid' : 'failed'
      const code = invalid ? 'invalid_balances' : 'get_balances_failed'
      return {
        result: done(outcome, describe(error, code)),
        finished: { ...finishedBase, outcome, at: Date.now(), status: null },
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
      return early(done('failed', describe(error, 'store_write_failed')))
    }

    const submitted: SubmitResult = await deps.client.submitBalances({
      installationId,
      accessToken: credentials.accessToken,
      body: { timestamp, balances },
      signal: deps.signal,
      ...(lease ? { signals: [lease.signal] } : {}),
    })
    const tokenState: TokenState | undefined =
      submitted.outcome === 'rejected'
        ? 'rejected'
        : submitted.outcome === 'gone'
          ? 'gone'
          : undefined
    // Written out in full, not spread from `base`/`finishedBase`: this is every report's path.
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
    const finished: SendReportOutcome['finished'] = {
      type: 'reportFinished',
      installationId,
      tokenGeneration: credentials.tokenGeneration,
      outcome: submitted.outcome,
      at: finishedAt,
      status: submitted.status,
    }
    if (finishedBase.lease) finished.lease = finishedBase.lease
    if (tokenState) finished.tokenState = tokenState
    return { result, finished, timestamp }
  } finally {
    lease?.end()
  }
}

/** What a report needs before reading balances: under a lease when the store has leases. */
async function open(
  deps: SendReportDeps,
  installationId: string,
  reason: ReportReason,
  memoryFloor: string | null,
): Promise<Opened> {
  if (deps.acquire) {
    const acquired = await deps.acquire(installationId, reason)
    if (acquired.kind !== 'claimed') return acquired
    return {
      kind: 'ready',
      credentials: acquired.credentials,
      lastTimestamp: laterTimestamp(acquired.lastTimestamp, memoryFloor),
      lease: acquired.lease,
      reserved: acquired.reserved,
    }
  }
  const [credentials, record] = await Promise.all([
    deps.store.getCredentials(installationId),
    deps.store.getInstallation(installationId),
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
  return {
    kind: 'ready',
    credentials,
    lastTimestamp: laterTimestamp(record?.lastTimestamp, memoryFloor),
    lease: undefined,
    reserved: undefined,
  }
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
