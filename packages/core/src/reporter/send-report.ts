import { isPrepaidBalancesError } from '../errors.js'
import type { BalanceStore, StoreWrite, TokenState } from '../store/store-types.js'
import type { SubmitResult, VercelClient } from '../submitter/submitter-types.js'
import { laterTimestamp, nextTimestamp } from './monotonic-timestamp.js'
import type { GetBalances, ReportReason, ReportResult } from './reporter-types.js'
import { validateBalances } from './validate-balances.js'

export interface SendReportDeps {
  store: BalanceStore
  client: VercelClient
  getBalances: GetBalances
  /** Persists `reportStarted` before the request goes out, so its timestamp is never reused. */
  persistStart(write: StoreWrite): Promise<void>
  signal: AbortSignal
}

export interface SendReportOutcome {
  result: ReportResult
  /** The write recording the result (the caller decides `clearPending`). */
  finished: Omit<Extract<StoreWrite, { type: 'reportFinished' }>, 'clearPending'> | null
  /** Timestamp sent, for the caller's in-memory monotonic floor. */
  timestamp: string | null
}

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
  ): ReportResult => ({
    ...base,
    outcome,
    error,
    timestamp,
    durationMs: Date.now() - started,
  })

  let credentials: Awaited<ReturnType<BalanceStore['getCredentials']>>
  let lastTimestamp: string | null
  try {
    const [creds, record] = await Promise.all([
      deps.store.getCredentials(installationId),
      deps.store.getInstallation(installationId),
    ])
    credentials = creds
    lastTimestamp = laterTimestamp(record?.lastTimestamp, memoryFloor)
  } catch (error) {
    return {
      result: done('failed', describe(error, 'store_read_failed')),
      finished: null,
      timestamp: null,
    }
  }
  if (!credentials) {
    const error = { code: 'unknown_installation', message: 'no stored token for installation' }
    return { result: done('skipped', error), finished: null, timestamp: null }
  }
  if (credentials.tokenState !== 'active') {
    const error = {
      code: `token_${credentials.tokenState}`,
      message: `token is ${credentials.tokenState}; waiting for a new Upsert Installation`,
    }
    return { result: done('skipped', error), finished: null, timestamp: null }
  }

  // Taken before the read: the balances returned reflect the ledger at or after this instant.
  const timestamp = nextTimestamp(Date.now(), lastTimestamp)
  const finishedBase = {
    type: 'reportFinished' as const,
    installationId,
    tokenGeneration: credentials.tokenGeneration,
  }
  let balances: ReturnType<typeof validateBalances>
  try {
    balances = validateBalances(installationId, await deps.getBalances(installationId))
  } catch (error) {
    const invalid = isPrepaidBalancesError(error, 'ERR_INVALID_BALANCES')
    const outcome = invalid ? 'invalid' : 'failed'
    const result = done(outcome, describe(error, invalid ? 'invalid_balances' : 'get_balances_failed'))
    return {
      result,
      finished: { ...finishedBase, outcome, at: Date.now(), status: null },
      timestamp: null,
    }
  }

  try {
    await deps.persistStart({ type: 'reportStarted', installationId, timestamp, at: Date.now() })
  } catch (error) {
    return { result: done('failed', describe(error, 'store_write_failed')), finished: null, timestamp: null }
  }

  const submitted: SubmitResult = await deps.client.submitBalances({
    installationId,
    accessToken: credentials.accessToken,
    body: { timestamp, balances },
    signal: deps.signal,
  })
  const tokenState: TokenState | undefined =
    submitted.outcome === 'rejected' ? 'rejected' : submitted.outcome === 'gone' ? 'gone' : undefined
  const result: ReportResult = {
    ...base,
    outcome: submitted.outcome,
    attempts: submitted.attempts,
    status: submitted.status,
    vercelRequestId: submitted.vercelRequestId,
    error: submitted.error,
    timestamp,
    durationMs: Date.now() - started,
  }
  return {
    result,
    finished: {
      ...finishedBase,
      outcome: submitted.outcome,
      at: Date.now(),
      status: submitted.status,
      ...(tokenState ? { tokenState } : {}),
    },
    timestamp,
  }
}

function describe(error: unknown, fallbackCode: string): { code: string; message: string } {
  if (isPrepaidBalancesError(error)) return { code: error.code, message: error.message }
  const message = error instanceof Error ? error.message : String(error)
  return { code: fallbackCode, message }
}
