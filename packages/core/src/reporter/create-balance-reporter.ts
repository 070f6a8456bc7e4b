import { setMaxListeners } from 'node:events'
import { PrepaidBalancesError } from '../errors.js'
import type { ReportOutcome } from '../store/store-types.js'
import { createVercelClient } from '../submitter/vercel-client.js'
import { installationIdSchema, isValidInstallationId } from '../wire/installation-id.js'
import { LeaseCoordinator } from './lease-coordinator.js'
import { ReportDispatcher, type RunResult } from './report-dispatcher.js'
import { resolveReporterOptions } from './reporter-options.js'
import type {
  BalanceReporter,
  BalanceReporterOptions,
  ReportAllSummary,
  ReportReason,
  ReportResult,
} from './reporter-types.js'
import { ScheduleSweeper } from './schedule-sweeper.js'
import { type SendReportDeps, sendReport } from './send-report.js'
import { validateBalances } from './validate-balances.js'
import { WriteBehindQueue } from './write-behind-queue.js'

/**
 * Pending marks from `notify()` that nobody awaits are committed at most this often: one store
 * transaction per 20 ms instead of one per event-loop turn. On a busy server that cut the
 * background cost of a notify from ~2.6 µs to ~0.7 µs of CPU (SQLite store, 4 notifies per turn).
 * `persisted()`, `flush()` and every report still commit at once.
 */
const WRITE_BATCH_INTERVAL_MS = 20

/**
 * A repeated mark (the installation's mark is stored and no report of this process cleared it
 * since) only bumps its change counter, for a report another process may have in flight: it may
 * wait this long, sharing its batch with every other busy installation's. A hook on 100 busy
 * installations stored ~5,200 marks a second at 20 ms (bench/reporting-load.mjs). A crash
 * within this window can lose such a bump: the installation stays pending unless another
 * process's report cleared it meanwhile, and then the scheduled sweep reports it.
 */
const REPEATED_MARK_INTERVAL_MS = 200

/**
 * Creates the reporter that keeps Vercel up to date with every installation's prepaid balance:
 * right after changes (`notify`, coalesced), on a schedule (`reportIntervalMs`), and on demand.
 *
 * @example
 * const reporter = createBalanceReporter({
 *   store: sqliteStore({ filename: './balances.db', encryptionKey: process.env.BALANCES_ENCRYPTION_KEY! }),
 *   getBalances: async (installationId) => [
 *     { currencyValueInCents: await ledger.cents(installationId), credit: '1,234 Tokens', nameLabel: 'Tokens' },
 *   ],
 * })
 * await reporter.saveInstallation('icfg_123', { accessToken: body.credentials.access_token })
 * reporter.notify('icfg_123') // after a purchase or usage
 */
export function createBalanceReporter(options: BalanceReporterOptions): BalanceReporter {
  const config = resolveReporterOptions(options)
  const { store, logger } = config
  const abort = new AbortController()
  // One signal is shared by every submission in flight; that is many listeners by design.
  setMaxListeners(0, abort.signal)
  const listeners = new Set<(result: ReportResult) => void>()
  if (config.onReport) listeners.add(config.onReport)
  // Installations whose durable pending mark was written and not yet cleared: one mark per
  // burst of changes is enough, more would only cost writes.
  const markedPending = new Set<string>()
  let closed = false
  let closing: Promise<void> | null = null

  const ready = store.init()
  ready.catch((error: unknown) =>
    logger.error('store initialisation failed', { store: store.kind, error: errorMessage(error) }),
  )
  const writes = new WriteBehindQueue(
    store,
    ready,
    logger,
    WRITE_BATCH_INTERVAL_MS,
    REPEATED_MARK_INTERVAL_MS,
  )
  // Stores that several processes share coordinate through leases (see lease-coordinator.ts).
  const leases = store.leases
    ? new LeaseCoordinator({
        leases: store.leases,
        leaseMs: config.leaseMs,
        scheduleIdleMs: Math.floor(config.reportIntervalMs / 2),
        // reportAll/reportDue claim leases this many at a time (see claimAhead): few store
        // calls, and few leases held ahead of their reports.
        claimChunk: Math.max(8, config.concurrency * 4),
        // This process's pending marks (and its last report's end, which frees the lease) reach
        // the store before a claim decides whether a report is still owed. A report under a
        // lease claimed ahead claims nothing, so it waits for no commit at all.
        beforeClaim: (installationId) => writes.commitFor(installationId),
        logger,
      })
    : null
  const client = createVercelClient({
    apiUrl: config.apiUrl,
    timeoutMs: config.timeoutMs,
    connections: config.concurrency,
    retry: config.retry,
    onRetry: (info) => logger.debug?.('retrying balance report', info),
  })

  const emit = (result: ReportResult) => {
    for (const listener of listeners) {
      try {
        listener(result)
      } catch (error) {
        logger.error('onReport listener threw', { error: errorMessage(error) })
      }
    }
  }

  // Built once: every report's `sendReport` call shares these.
  const sendDeps: SendReportDeps = {
    store,
    client,
    getBalances: config.getBalances,
    persistStart: (write) => {
      writes.enqueue(write)
      return writes.commit()
    },
    signal: abort.signal,
    ...(leases ? { acquire: (installationId, why) => leases.acquire(installationId, why) } : {}),
  }
  // Once the store is ready, reports skip awaiting it (one promise less per report).
  let storeReady = false
  ready.then(
    () => {
      storeReady = true
    },
    () => {},
  )

  const dispatcher: ReportDispatcher = new ReportDispatcher(config.coalesceMs, config.concurrency, {
    run: (id, reason, lastTimestamp): Promise<RunResult> =>
      storeReady
        ? sendReport(sendDeps, id, reason, lastTimestamp)
        : ready.then(() => sendReport(sendDeps, id, reason, lastTimestamp)),
    finished: (id, run, newerRequestsArrived) => {
      const { result } = run
      if (run.finished) {
        // Keep the pending mark unless these balances were read after the latest change and
        // the outcome is final (delivered, or refused for good).
        const clearPending = !newerRequestsArrived && isFinal(result.outcome)
        if (clearPending) markedPending.delete(id)
        run.finished.clearPending = clearPending // the write was built for this alone
        writes.enqueue(run.finished)
      }
      logResult(result)
      emit(result)
    },
    // A lease claimed ahead (reportAll) predates this change or token: its report claims afresh,
    // so it reads the new token and its finish clears the pending mark that the change sets.
    ...(leases ? { requested: (id: string) => leases.forgetClaimedAhead(id) } : {}),
  })

  const sweeper = new ScheduleSweeper({
    store,
    ...(store.leases ? { leases: { leases: store.leases, leaseMs: config.leaseMs } } : {}),
    reportIntervalMs: config.reportIntervalMs,
    logger,
    request: (id, reason) => dispatcher.requestSoon(id, reason),
    isBusy: (id) => dispatcher.isBusy(id),
  })
  if (config.autoStart) {
    ready.then(
      () => {
        if (!closed) sweeper.start()
      },
      () => {},
    )
  }

  function logResult(result: ReportResult) {
    if (result.outcome === 'delivered') {
      logger.debug?.('balance reported', { ...result })
      return
    }
    if (isCoordinationSkip(result)) {
      logger.debug?.(`balance report left to another process: ${result.error?.message}`, {
        installationId: result.installationId,
        reason: result.reason,
      })
      return
    }
    const level = result.outcome === 'failed' || result.outcome === 'skipped' ? 'warn' : 'error'
    logger[level](`balance report ${result.outcome}`, {
      installationId: result.installationId,
      reason: result.reason,
      attempts: result.attempts,
      status: result.status,
      vercelRequestId: result.vercelRequestId,
      error: result.error,
    })
  }

  function assertOpen(method: string) {
    if (closed) {
      throw new PrepaidBalancesError(
        'ERR_REPORTER_CLOSED',
        `reporter.${method}() called after close()`,
      )
    }
  }

  function assertInstallationId(method: string, id: unknown): asserts id is string {
    const parsed = installationIdSchema.safeParse(id)
    if (!parsed.success) {
      throw new PrepaidBalancesError(
        'ERR_INVALID_INSTALLATION_ID',
        `reporter.${method}(): ${parsed.error.issues[0]?.message ?? 'invalid installation id'}`,
      )
    }
  }

  function runMany(
    ids: readonly string[],
    reason: ReportReason,
    summary: ReportAllSummary,
  ): Promise<void> {
    if (ids.length === 0) return Promise.resolve()
    // Under leases, the reports' leases are claimed a chunk at a time, not one call per report.
    const plan = leases?.claimAhead(ids, reason)
    // One promise for the page, not one per report (the dispatcher calls back with each result).
    return new Promise((resolve) => {
      let left = ids.length
      const onResult = (result: ReportResult) => {
        plan?.done(result.installationId)
        summary.total++
        summary[result.outcome]++
        if (--left === 0) resolve()
      }
      for (const id of ids) dispatcher.requestNowThen(id, reason, onResult)
    })
  }

  const reporter: BalanceReporter = {
    store,

    async saveInstallation(installationId, credentials) {
      assertOpen('saveInstallation')
      assertInstallationId('saveInstallation', installationId)
      if (
        typeof credentials !== 'object' ||
        credentials === null ||
        typeof credentials.accessToken !== 'string' ||
        credentials.accessToken.trim() === '' ||
        /\s/.test(credentials.accessToken)
      ) {
        throw new PrepaidBalancesError(
          'ERR_INVALID_CREDENTIALS',
          `reporter.saveInstallation(): credentials.accessToken must be a non-empty string without whitespace (installation ${installationId})`,
        )
      }
      if (credentials.tokenType !== undefined && typeof credentials.tokenType !== 'string') {
        throw new PrepaidBalancesError(
          'ERR_INVALID_CREDENTIALS',
          `reporter.saveInstallation(): credentials.tokenType must be a string (installation ${installationId})`,
        )
      }
      await ready
      // Request before storing: a report in flight with the old token then cannot clear the
      // pending mark that the new token's first report depends on.
      dispatcher.request(installationId, 'notify')
      await store.saveCredentials(
        installationId,
        { accessToken: credentials.accessToken, tokenType: credentials.tokenType ?? 'Bearer' },
        Date.now(),
      )
      markedPending.add(installationId) // saveCredentials marked it pending
      // And after: a report that started before the token was stored has skipped it.
      dispatcher.request(installationId, 'notify')
    },

    async deleteInstallation(installationId) {
      assertOpen('deleteInstallation')
      assertInstallationId('deleteInstallation', installationId)
      await ready
      await writes.commit() // earlier writes for this installation land before it is removed
      const existed = await store.deleteInstallation(installationId)
      markedPending.delete(installationId)
      dispatcher.forget(installationId, skippedResult(installationId, 'installation_deleted'))
      return existed
    },

    notify(installationId) {
      try {
        if (closed) {
          logger.warn('notify() after close() ignored', { installationId })
          return
        }
        if (!isValidInstallationId(installationId)) {
          logger.error('notify() called with an invalid installation id; ignored', {
            installationId: String(installationId).slice(0, 140),
          })
          return
        }
        dispatcher.request(installationId, 'notify')
        if (leases) {
          // Every change needs a mark stored after it: the claim of another process's report
          // may already have passed the previous one (see claim-policy.ts). Keyed by the
          // bare id (marks are the only writes enqueued once): no string built per notify().
          // A repeated mark may wait longer (see REPEATED_MARK_INTERVAL_MS).
          const mark = { type: 'markPending' as const, installationId, at: Date.now() }
          if (markedPending.has(installationId)) writes.enqueueLater(installationId, mark)
          else {
            markedPending.add(installationId)
            writes.enqueueOnce(installationId, mark)
          }
        } else if (!markedPending.has(installationId)) {
          markedPending.add(installationId)
          writes.enqueue({ type: 'markPending', installationId, at: Date.now() })
        }
      } catch (error) {
        logger.error('notify() failed', { installationId, error: errorMessage(error) })
      }
    },

    persisted() {
      return writes.commit()
    },

    async flush() {
      await dispatcher.expediteAll()
      await writes.commit()
    },

    async reportAll() {
      assertOpen('reportAll')
      await ready
      const started = Date.now()
      const summary = emptySummary()
      // Page through the store, keeping at most a few pages of work queued at once.
      let after: string | undefined
      const inFlightPages: Promise<void>[] = []
      for (;;) {
        const ids = await store.listInstallationIds({ after, limit: 1000 })
        if (ids.length === 0) break
        after = ids[ids.length - 1]
        inFlightPages.push(runMany(ids, 'report-all', summary))
        if (inFlightPages.length >= 3) await inFlightPages.shift()
        if (ids.length < 1000) break
      }
      await Promise.all(inFlightPages)
      await writes.commit()
      summary.durationMs = Date.now() - started
      return summary
    },

    async reportDue(opts) {
      assertOpen('reportDue')
      await ready
      const started = Date.now()
      const limit = opts?.limit ?? 10_000
      const olderThanMs = Math.floor(config.reportIntervalMs / 2)
      const [pending, due] = await Promise.all([
        store.listPending(limit),
        store.listDue(Date.now() - olderThanMs, limit),
      ])
      const summary = emptySummary()
      await runMany([...new Set([...pending, ...due])], 'schedule', summary)
      await writes.commit()
      summary.durationMs = Date.now() - started
      return summary
    },

    async reportNow(installationId) {
      assertOpen('reportNow')
      assertInstallationId('reportNow', installationId)
      const result = await dispatcher.requestNow(installationId, 'flush')
      await writes.commit()
      return result
    },

    async getStatus(installationId) {
      assertInstallationId('getStatus', installationId)
      await ready
      const record = await store.getInstallation(installationId)
      if (!record) return null
      return {
        ...record,
        pending: record.pending || dispatcher.hasUnsent(installationId),
        inFlight: dispatcher.isInFlight(installationId),
      }
    },

    async getInvoice(installationId, invoiceId) {
      assertOpen('getInvoice')
      assertInstallationId('getInvoice', installationId)
      await ready
      const credentials = await store.getCredentials(installationId)
      if (!credentials) {
        throw new PrepaidBalancesError(
          'ERR_INSTALLATION_NOT_FOUND',
          `no stored token for installation ${installationId}; it must be installed first`,
        )
      }
      return client.getInvoice({
        installationId,
        accessToken: credentials.accessToken,
        invoiceId,
        signal: abort.signal,
      })
    },

    async getBalances(installationId) {
      assertInstallationId('getBalances', installationId)
      return validateBalances(installationId, await config.getBalances(installationId))
    },

    onReport(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    close() {
      if (closing) return closing
      closed = true
      closing = (async () => {
        sweeper.stop()
        abort.abort()
        await dispatcher.stop((id) => skippedResult(id, 'reporter_closed'))
        await leases?.close() // frees leases claimed ahead for reports that will not run
        await writes.commit()
        await Promise.allSettled([ready.then(() => store.close()), client.close()])
      })()
      return closing
    },
  }
  return reporter
}

/** Normal when several processes share a store: another one is reporting, or already did. */
function isCoordinationSkip(result: ReportResult): boolean {
  const code = result.error?.code
  return result.outcome === 'skipped' && (code === 'reported_elsewhere' || code === 'lease_held')
}

function isFinal(outcome: ReportOutcome): boolean {
  return outcome === 'delivered' || outcome === 'invalid'
}

function emptySummary(): ReportAllSummary {
  return {
    total: 0,
    delivered: 0,
    rejected: 0,
    gone: 0,
    invalid: 0,
    failed: 0,
    skipped: 0,
    durationMs: 0,
  }
}

function skippedResult(installationId: string, code: string): ReportResult {
  return {
    installationId,
    outcome: 'skipped',
    reason: 'notify',
    attempts: 0,
    durationMs: 0,
    timestamp: null,
    status: null,
    vercelRequestId: null,
    error: { code, message: code.replace(/_/g, ' ') },
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
