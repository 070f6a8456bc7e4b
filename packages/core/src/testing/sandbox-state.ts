import { createHash, timingSafeEqual } from 'node:crypto'
import type { SubmitBalancesBody } from '../wire/balance-schema.js'
import type {
  LatestBalances,
  RecordedRequest,
  SandboxInvoice,
  SandboxStats,
} from './sandbox-types.js'

interface InstallationRecord {
  /** Only a digest is kept so the sandbox never holds the token in a form it could log. */
  tokenDigest: Buffer
  /** Set when removed: the status its requests now get. */
  goneStatus: 404 | 410 | null
}

export type TokenCheck = 'ok' | 'unknown' | 'gone-404' | 'gone-410' | 'wrong-token'

const digest = (token: string): Buffer => createHash('sha256').update(token).digest()

/** Everything the sandbox remembers; the HTTP layer stays free of bookkeeping. */
export class SandboxState {
  readonly requests: RecordedRequest[] = []
  private readonly installations = new Map<string, InstallationRecord>()
  private readonly invoices = new Map<string, Map<string, SandboxInvoice>>()
  private readonly latest = new Map<string, LatestBalances>()
  private readonly accepted = new Map<string, SubmitBalancesBody[]>()
  /** Highest timestamp (ms) accepted so far, per installation, in the order they were accepted. */
  private readonly highWater = new Map<string, number>()
  private readonly inFlightBy = new Map<string, number>()
  private counters = this.freshCounters()

  private freshCounters(): Omit<SandboxStats, 'requests'> {
    return {
      byStatus: {},
      accepted: 0,
      faultsInjected: 0,
      resets: 0,
      inFlight: 0,
      maxInFlight: 0,
      maxInFlightPerInstallation: 0,
      timestampRegressions: 0,
    }
  }

  addInstallation(id: string, accessToken: string): void {
    this.installations.set(id, { tokenDigest: digest(accessToken), goneStatus: null })
  }

  removeInstallation(id: string, status: 404 | 410): void {
    const record = this.installations.get(id)
    // Removing an installation the sandbox never saw still makes it answer `status`.
    this.installations.set(id, {
      tokenDigest: record?.tokenDigest ?? digest(''),
      goneStatus: status,
    })
  }

  checkToken(id: string, token: string): TokenCheck {
    const record = this.installations.get(id)
    if (!record) return 'unknown'
    if (record.goneStatus === 404) return 'gone-404'
    if (record.goneStatus === 410) return 'gone-410'
    return timingSafeEqual(record.tokenDigest, digest(token)) ? 'ok' : 'wrong-token'
  }

  addInvoice(installationId: string, invoice: SandboxInvoice): void {
    let byId = this.invoices.get(installationId)
    if (!byId) {
      byId = new Map()
      this.invoices.set(installationId, byId)
    }
    byId.set(invoice.invoiceId, structuredClone(invoice))
  }

  getInvoice(installationId: string, invoiceId: string): SandboxInvoice | undefined {
    return this.invoices.get(installationId)?.get(invoiceId)
  }

  /**
   * Vercel keeps the latest data by `timestamp`: an older submission is accepted but does not
   * replace the kept one. An equal timestamp replaces (last write wins).
   */
  acceptSubmission(installationId: string, body: SubmitBalancesBody, receivedAt: Date): void {
    const at = Date.parse(body.timestamp)
    const high = this.highWater.get(installationId)
    if (high !== undefined && at < high) this.counters.timestampRegressions++
    this.highWater.set(installationId, Math.max(at, high ?? at))
    const list = this.accepted.get(installationId) ?? []
    list.push(structuredClone(body))
    this.accepted.set(installationId, list)
    this.counters.accepted++
    const kept = this.latest.get(installationId)
    if (kept && Date.parse(kept.timestamp) > at) return
    this.latest.set(installationId, {
      timestamp: body.timestamp,
      balances: structuredClone(body.balances),
      receivedAt,
    })
  }

  latestBalances(installationId: string): LatestBalances | undefined {
    const kept = this.latest.get(installationId)
    return kept && structuredClone(kept)
  }

  /** Installations that have at least one accepted submission. */
  installationsWithBalances(): string[] {
    return [...this.latest.keys()]
  }

  acceptedSubmissions(installationId: string): SubmitBalancesBody[] {
    return structuredClone(this.accepted.get(installationId) ?? [])
  }

  requestStarted(installationId: string | null): void {
    const c = this.counters
    c.inFlight++
    c.maxInFlight = Math.max(c.maxInFlight, c.inFlight)
    if (installationId === null) return
    const now = (this.inFlightBy.get(installationId) ?? 0) + 1
    this.inFlightBy.set(installationId, now)
    c.maxInFlightPerInstallation = Math.max(c.maxInFlightPerInstallation, now)
  }

  requestEnded(record: RecordedRequest, startedAt: number): void {
    const c = this.counters
    c.inFlight--
    if (record.installationId !== null) {
      const left = (this.inFlightBy.get(record.installationId) ?? 1) - 1
      if (left === 0) this.inFlightBy.delete(record.installationId)
      else this.inFlightBy.set(record.installationId, left)
    }
    record.durationMs = performance.now() - startedAt
    if (record.status !== null) {
      const key = String(record.status)
      c.byStatus[key] = (c.byStatus[key] ?? 0) + 1
    }
    if (record.outcome === 'reset') c.resets++
    if (record.fault !== null) c.faultsInjected++
  }

  inFlight(installationId?: string): number {
    if (installationId === undefined) return this.counters.inFlight
    return this.inFlightBy.get(installationId) ?? 0
  }

  stats(): SandboxStats {
    return {
      requests: this.requests.length,
      ...this.counters,
      byStatus: { ...this.counters.byStatus },
    }
  }

  /** Forgets recorded data; installations and invoices only when asked. */
  reset(options: { keepInstallations: boolean }): void {
    this.requests.length = 0
    this.latest.clear()
    this.accepted.clear()
    this.highWater.clear()
    const { inFlight } = this.counters
    this.counters = { ...this.freshCounters(), inFlight, maxInFlight: inFlight }
    if (!options.keepInstallations) {
      this.installations.clear()
      this.invoices.clear()
    }
  }
}
