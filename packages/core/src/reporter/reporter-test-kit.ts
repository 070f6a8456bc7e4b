import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { silentLogger } from '../logger.js'
import { sqliteStore } from '../store/sqlite-store.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/index.js'
import { createBalanceReporter } from './create-balance-reporter.js'
import type { BalanceReporter, BalanceReporterOptions, ReportResult } from './reporter-types.js'

/** A partner ledger in cents, per installation, as a test stand-in for the partner's database. */
export class TestLedger {
  readonly cents = new Map<string, number>()
  add(id: string, delta: number) {
    this.cents.set(id, (this.cents.get(id) ?? 0) + delta)
  }
  balances = async (id: string) => [
    {
      currencyValueInCents: this.cents.get(id) ?? 0,
      credit: `${this.cents.get(id) ?? 0} Tokens`,
      nameLabel: 'Tokens',
    },
  ]
}

export interface ReporterHarness {
  sandbox: VercelSandbox
  ledger: TestLedger
  reporter: BalanceReporter
  results: ReportResult[]
  dbFile: string
  encryptionKey: string
  /** Creates the reporter (again) over the same SQLite file, e.g. after a simulated crash. */
  start(overrides?: Partial<BalanceReporterOptions>): BalanceReporter
  install(id: string, token?: string): Promise<void>
  cleanup(): Promise<void>
}

/** A real sandbox, a real SQLite file and a reporter with fast retries for tests. */
export async function createReporterHarness(
  overrides: Partial<BalanceReporterOptions> = {},
): Promise<ReporterHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'prepaid-balances-'))
  const sandbox = await createVercelSandbox()
  const ledger = new TestLedger()
  const results: ReportResult[] = []
  const encryptionKey = generateEncryptionKey()
  const dbFile = join(dir, 'balances.db')
  const reporters: BalanceReporter[] = []
  const harness: ReporterHarness = {
    sandbox,
    ledger,
    results,
    dbFile,
    encryptionKey,
    reporter: undefined as unknown as BalanceReporter,
    start(more = {}) {
      const reporter = createBalanceReporter({
        store: sqliteStore({ filename: dbFile, encryptionKey }),
        getBalances: ledger.balances,
        apiUrl: sandbox.url,
        coalesceMs: 20,
        logger: silentLogger,
        retry: { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 5000 },
        onReport: (result) => results.push(result),
        ...overrides,
        ...more,
      })
      reporters.push(reporter)
      harness.reporter = reporter
      return reporter
    },
    async install(id, token = `tok_${id}_secret`) {
      sandbox.addInstallation(id, { accessToken: token })
      await harness.reporter.saveInstallation(id, { accessToken: token })
    },
    async cleanup() {
      await Promise.allSettled(reporters.map((r) => r.close()))
      await sandbox.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  harness.start()
  return harness
}

/** Balance submissions the sandbox received for one installation. */
export function submissionsFor(sandbox: VercelSandbox, id: string) {
  return sandbox.requests.filter((r) => r.installationId === id && r.method === 'POST')
}
