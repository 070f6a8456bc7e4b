import {
  type BalanceReporter,
  type BalanceReporterOptions,
  createBalanceReporter,
  createVercelSandbox,
  generateEncryptionKey,
  type Logger,
  memoryStore,
  type RecordedRequest,
  type ReportResult,
  type VercelSandbox,
} from './packages.js'

/** A partner's ledger in cents, per installation: what `getBalances` reads. */
export class Ledger {
  readonly cents = new Map<string, number>()
  add(id: string, delta: number): number {
    const next = (this.cents.get(id) ?? 0) + delta
    this.cents.set(id, next)
    return next
  }
  get(id: string): number {
    return this.cents.get(id) ?? 0
  }
  balances = (id: string) => [
    { currencyValueInCents: this.get(id), credit: `${this.get(id)} Tokens`, nameLabel: 'Tokens' },
  ]
}

/** One line a logger received, fields included, so tests can search everything that was logged. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
  fields: Record<string, unknown> | undefined
}

export function capturingLogger(lines: LogLine[]): Required<Logger> {
  const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields })
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** What the reporter announces before each retry (logged at debug level). */
export interface RetryNotice {
  attempt: number
  delayMs: number
  reason: string
}

export function retryNotices(lines: readonly LogLine[], installationId: string): RetryNotice[] {
  return lines
    .filter(
      (l) => l.message === 'retrying balance report' && l.fields?.installationId === installationId,
    )
    .map((l) => l.fields as unknown as RetryNotice)
}

export interface ReporterKit {
  sandbox: VercelSandbox
  ledger: Ledger
  reporter: BalanceReporter
  logs: LogLine[]
  results: ReportResult[]
  /** Registers `id` at the sandbox and saves its token in the reporter. */
  install(id: string, token?: string): Promise<string>
  /** Balance submissions the sandbox received for `id`, in arrival order. */
  submissions(id: string): RecordedRequest[]
  close(): Promise<void>
}

/**
 * A real sandbox and a real reporter over a memory store. Reports go out only when asked
 * (`autoStart: false` and a long coalescing window), so each test decides when a report runs.
 */
export async function createReporterKit(
  overrides: Partial<BalanceReporterOptions> = {},
): Promise<ReporterKit> {
  const sandbox = await createVercelSandbox()
  const ledger = new Ledger()
  const logs: LogLine[] = []
  const results: ReportResult[] = []
  const reporter = createBalanceReporter({
    store: memoryStore({ encryptionKey: generateEncryptionKey() }),
    getBalances: ledger.balances,
    apiUrl: sandbox.url,
    autoStart: false,
    coalesceMs: 60_000,
    logger: capturingLogger(logs),
    onReport: (result) => results.push(result),
    ...overrides,
  })
  return {
    sandbox,
    ledger,
    reporter,
    logs,
    results,
    async install(id, token = `tok_${id}_${Math.random().toString(36).slice(2)}`) {
      sandbox.addInstallation(id, { accessToken: token })
      await reporter.saveInstallation(id, { accessToken: token })
      return token
    },
    submissions: (id) =>
      sandbox.requests.filter((r) => r.installationId === id && r.route === 'submitBalances'),
    async close() {
      await reporter.close()
      await sandbox.close()
    },
  }
}

/** Milliseconds between consecutive requests, as the sandbox saw them arrive. */
export function gapsMs(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.receivedAt.getTime() - requests[i]!.receivedAt.getTime())
}
