// Item 2 of the reliability issue: 1,000 installations × 10 balance changes while the sandbox
// fails ~30% of requests in every way it can (408, 429, 5xx, resets, slow answers, timeouts).
// At the end Vercel must hold every installation's ledger balance: nothing accepted is lost,
// no installation's timestamps go backwards, and no installation ever has two requests in flight.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { ReportConcurrency } from './support/in-flight.js'
import {
  createBalanceReporter,
  createVercelSandbox,
  generateEncryptionKey,
  type ReportResult,
  sqliteStore,
} from './support/packages.js'
import { capturingLogger, Ledger, type LogLine } from './support/reporter-kit.js'
import { publishResults } from './support/results.js'
import { seededRandom, seedFrom } from './support/seeded.js'
import { waitFor } from './support/wait.js'

const INSTALLATIONS = 1_000
const CHANGES_PER_INSTALLATION = 10
const CHANGE_WINDOW_MS = 10_000
const FAULT_RATE = 0.3
/** Long enough that a loaded machine does not time out by itself; the slow faults last longer. */
const TIMEOUT_MS = 1_500
const seed = seedFrom('CHAOS_SEED')

const dir = mkdtempSync(join(tmpdir(), 'reliability-chaos-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it(`keeps Vercel equal to the ledger through ${FAULT_RATE * 100}% injected faults (seed ${seed})`, {
  timeout: 90_000,
}, async () => {
  const started = Date.now()
  const random = seededRandom(seed)
  const sandbox = await createVercelSandbox()
  const ledger = new Ledger()
  const history = new Map<string, number[]>()
  const lastAccepted = new Map<string, number>()
  const results: ReportResult[] = []
  const logs: LogLine[] = []
  const reports = new ReportConcurrency()
  const reporter = createBalanceReporter({
    store: sqliteStore({ filename: join(dir, 'chaos.db'), encryptionKey: generateEncryptionKey() }),
    getBalances: (id) => {
      reports.started(id)
      return ledger.balances(id)
    },
    apiUrl: sandbox.url,
    coalesceMs: 25,
    concurrency: 64,
    timeoutMs: TIMEOUT_MS,
    // The sweep that re-sends what outlasted the retries runs every reportIntervalMs / 20 = 1 s.
    reportIntervalMs: 20_000,
    retry: { maxAttempts: 5, initialDelayMs: 20, maxDelayMs: 200, maxRetryAfterMs: 2_000 },
    logger: capturingLogger(logs),
    onReport: (result) => {
      results.push(result)
      reports.ended(result.installationId)
    },
  })
  try {
    const ids = Array.from(
      { length: INSTALLATIONS },
      (_, i) => `icfg_chaos_${i.toString().padStart(4, '0')}`,
    )
    // Slow answers first (within the timeout), then answers slower than the timeout.
    const faults = (delayMs: number) =>
      sandbox.setRandomFaults({ rate: FAULT_RATE, seed: seed + delayMs, delayMs, retryAfterMs: 5 })
    faults(60)
    for (const id of ids) {
      sandbox.addInstallation(id, { accessToken: `tok_${id}_${seed}` })
      await reporter.saveInstallation(id, { accessToken: `tok_${id}_${seed}` })
      history.set(id, [0])
    }
    // The 10,000 changes land at random moments over CHANGE_WINDOW_MS, so most get a report of
    // their own and many arrive while a report of the same installation is in flight.
    const changes = ids
      .flatMap((id) =>
        Array.from({ length: CHANGES_PER_INSTALLATION }, () => ({
          id,
          at: random() * CHANGE_WINDOW_MS,
        })),
      )
      .sort((a, b) => a.at - b.at)
    const windowStart = Date.now()
    let next = 0
    let switched = false
    while (next < changes.length) {
      const elapsed = Date.now() - windowStart
      if (!switched && elapsed >= CHANGE_WINDOW_MS / 2) {
        switched = true
        faults(TIMEOUT_MS + 300)
      }
      const batch: string[] = []
      while (next < changes.length && changes[next]!.at <= elapsed) batch.push(changes[next++]!.id)
      for (const id of batch) {
        history.get(id)!.push(ledger.add(id, 1 + Math.floor(random() * 500)))
        reporter.notify(id)
      }
      await reporter.persisted()
      for (const id of batch) lastAccepted.set(id, ledger.get(id))
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const acceptedAt = Date.now()

    // No help from the test: the reporter's own retries and sweeps must get everything through.
    const behind = () =>
      ids.filter(
        (id) => sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents !== ledger.get(id),
      )
    await waitFor('Vercel to match the ledger', () => behind().length === 0, 50_000, 50)
    await waitFor(
      'no installation left pending',
      async () => (await reporter.store.listPending(10)).length === 0,
      10_000,
      50,
    )
    const convergedMs = Date.now() - acceptedAt
    sandbox.setRandomFaults(null)
    await sandbox.settled()

    const stats = sandbox.stats()
    for (const id of ids) {
      const latest = sandbox.latestBalances(id)!.balances[0]!.currencyValueInCents
      expect(latest, id).toBe(ledger.get(id))
      expect(latest, id).toBeGreaterThanOrEqual(lastAccepted.get(id)!)
      // Every value Vercel accepted was a real ledger value, and in timestamp order they only grow.
      const accepted = sandbox
        .acceptedSubmissions(id)
        .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp))
        .map((body) => body.balances[0]!.currencyValueInCents)
      for (const value of accepted) expect(history.get(id)).toContain(value)
      expect(accepted, id).toEqual([...accepted].sort((a, b) => a - b))
    }
    expect(stats.timestampRegressions).toBe(0)
    // One report at a time per installation. (The sandbox's own count can reach 2: an attempt the
    // client timed out on stays open at the server until it notices the hang-up, and the retry,
    // which carries the same body and timestamp, may arrive first.)
    expect(reports.max).toBe(1)
    expect(stats.faultsInjected / stats.requests).toBeGreaterThan(FAULT_RATE * 0.7)

    const attempts = results.reduce((sum, r) => sum + r.attempts, 0)
    const sent = results.filter((r) => r.attempts > 0).length
    const outcomes: Record<string, number> = {}
    const notDelivered: Record<string, number> = {}
    for (const r of results) {
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1
      const why = `${r.outcome}: ${r.error?.code}`
      if (r.outcome !== 'delivered') notDelivered[why] = (notDelivered[why] ?? 0) + 1
    }
    const retryReasons: Record<string, number> = {}
    for (const line of logs) {
      if (line.message !== 'retrying balance report') continue
      const reason = String(line.fields?.reason)
      retryReasons[reason] = (retryReasons[reason] ?? 0) + 1
    }
    expect(outcomes.rejected ?? 0).toBe(0)
    expect(outcomes.invalid ?? 0).toBe(0)
    publishResults('chaos', {
      seed,
      installations: INSTALLATIONS,
      changesAccepted: INSTALLATIONS * CHANGES_PER_INSTALLATION,
      changesLost: ids.filter(
        (id) =>
          sandbox.latestBalances(id)!.balances[0]!.currencyValueInCents < lastAccepted.get(id)!,
      ).length,
      faultRate: FAULT_RATE,
      requests: stats.requests,
      faultsInjected: stats.faultsInjected,
      resets: stats.resets,
      byStatus: stats.byStatus,
      reports: results.length,
      reportOutcomes: outcomes,
      notDelivered,
      attempts,
      retries: attempts - sent,
      retryReasons,
      acceptedSubmissions: stats.accepted,
      maxInFlight: stats.maxInFlight,
      maxReportsInFlightPerInstallation: reports.max,
      maxInFlightPerInstallationAtSandbox: stats.maxInFlightPerInstallation,
      timestampRegressions: stats.timestampRegressions,
      convergedAfterLastChangeMs: convergedMs,
      durationMs: Date.now() - started,
    })
  } finally {
    await reporter.close()
    await sandbox.close()
  }
})
