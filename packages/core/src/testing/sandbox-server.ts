import { createServer } from 'node:http'
import type { SubmitBalancesBody } from '../wire/balance-schema.js'
import { listenLocally } from './local-server.js'
import { FaultPlan } from './sandbox-faults.js'
import { handleSandboxRequest } from './sandbox-handler.js'
import { SandboxState } from './sandbox-state.js'
import type {
  LatestBalances,
  RandomFaultOptions,
  RecordedRequest,
  SandboxFault,
  SandboxInvoice,
  SandboxStats,
  VercelSandboxOptions,
} from './sandbox-types.js'

/** A running stand-in for Vercel's billing API; see {@link createVercelSandbox}. */
export interface VercelSandbox {
  /** Origin to use as the API URL, e.g. `http://127.0.0.1:43123`. */
  readonly url: string
  /** Every request received, in arrival order (live array; `authorization` header removed). */
  readonly requests: readonly RecordedRequest[]
  /** Creates an installation, or replaces its token (and revives it) when it exists. */
  addInstallation(id: string, credentials: { accessToken: string }): void
  /** Makes the installation answer 404 (default) or 410 from now on. */
  removeInstallation(id: string, options?: { status?: 404 | 410 }): void
  /** Makes Get Invoice return this invoice (replacing one with the same id). */
  addInvoice(installationId: string, invoice: SandboxInvoice): void
  /** The balances kept for an installation: those with the newest `timestamp` accepted. */
  latestBalances(installationId: string): LatestBalances | undefined
  /** Every body accepted (201) for an installation, in the order they were accepted. */
  acceptedSubmissions(installationId: string): SubmitBalancesBody[]
  /** Installations that have at least one accepted submission. */
  installationsWithBalances(): string[]
  /** Requests in flight, overall or for one installation. */
  inFlight(installationId?: string): number
  stats(): SandboxStats
  /** Fails the next matching request(s); faults queue up and the first match wins. */
  injectFault(fault: SandboxFault): void
  /** Fails a seeded random share of requests not hit by a queued fault. */
  setRandomFaults(options: RandomFaultOptions | null): void
  /** Drops queued and random faults. */
  clearFaults(): void
  /**
   * Forgets requests, balances, stats and faults. Installations and invoices are forgotten too
   * unless `keepInstallations` is true.
   */
  reset(options?: { keepInstallations?: boolean }): void
  /** Ends every injected delay now: the delayed requests carry on as if the time had passed. */
  releaseDelays(): void
  /**
   * Resolves once every request received so far has been fully handled, including delayed
   * ones whose client already gave up (so tests can assert whether they were applied).
   */
  settled(): Promise<void>
  /** Stops listening and destroys open connections, including idle keep-alive ones. */
  close(): Promise<void>
}

/**
 * Starts a real HTTP server on 127.0.0.1 that emulates Vercel's Submit Prepayment Balances
 * (`POST /v1/installations/:id/billing/balance`) and Get Invoice
 * (`GET /v1/installations/:id/billing/invoices/:invoiceId`): bearer token per installation,
 * strict body validation, `201` with an empty body, Vercel-shaped error bodies and an
 * `X-Vercel-Id` on every response. It records every request, keeps the latest balances per
 * installation by `timestamp`, measures concurrency and injects faults on demand.
 *
 * @example
 * const sandbox = await createVercelSandbox({ installations: { icfg_abc: 'token-abc' } })
 * sandbox.injectFault({ installationId: 'icfg_abc', status: 429, retryAfter: 1 })
 * const reporter = createBalanceReporter({ apiUrl: sandbox.url, ... })
 * // ... exercise the reporter ...
 * expect(sandbox.latestBalances('icfg_abc')?.balances).toEqual([{ currencyValueInCents: 1234 }])
 * expect(sandbox.stats().maxInFlightPerInstallation).toBe(1)
 * await sandbox.close()
 */
export async function createVercelSandbox(
  options: VercelSandboxOptions = {},
): Promise<VercelSandbox> {
  const state = new SandboxState()
  const faults = new FaultPlan()
  const delays = new Set<() => void>()
  const releaseDelays = () => {
    for (const wake of [...delays]) wake()
  }
  const ctx = {
    state,
    faults,
    delays,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
  }
  for (const [id, accessToken] of Object.entries(options.installations ?? {})) {
    state.addInstallation(id, accessToken)
  }
  // Tracked so `settled()` can wait for delayed answers that outlive their client.
  const active = new Set<Promise<void>>()
  const server = createServer((req, res) => {
    // A bug in the handler must not become an unhandled rejection in the host test run.
    const handling = handleSandboxRequest(req, res, ctx).catch(() => void res.destroy())
    active.add(handling)
    void handling.finally(() => active.delete(handling))
  })
  const listening = await listenLocally(server, options)

  return {
    url: listening.origin,
    requests: state.requests,
    addInstallation: (id, { accessToken }) => state.addInstallation(id, accessToken),
    removeInstallation: (id, removal) => state.removeInstallation(id, removal?.status ?? 404),
    addInvoice: (installationId, invoice) => state.addInvoice(installationId, invoice),
    latestBalances: (id) => state.latestBalances(id),
    acceptedSubmissions: (id) => state.acceptedSubmissions(id),
    installationsWithBalances: () => state.installationsWithBalances(),
    inFlight: (id) => state.inFlight(id),
    stats: () => state.stats(),
    injectFault: (fault) => faults.inject(fault),
    setRandomFaults: (random) => faults.setRandom(random),
    clearFaults: () => faults.clear(),
    reset: (resetOptions) => {
      faults.clear()
      state.reset({ keepInstallations: resetOptions?.keepInstallations ?? false })
    },
    releaseDelays,
    settled: async () => {
      while (active.size > 0) await Promise.allSettled([...active])
    },
    close: () => {
      releaseDelays()
      return listening.close()
    },
  }
}
