import { randomUUID } from 'node:crypto'
import type { Logger } from '../logger.js'
import type { LeaseClaimOptions, StoredCredentials, StoreLeases } from '../store/store-types.js'
import type { ReportReason } from './reporter-types.js'

/** What a report may do after asking for the installation's lease. */
export type Acquisition =
  | {
      kind: 'claimed'
      credentials: StoredCredentials
      /** The last timestamp any process sent: the floor for this one. */
      lastTimestamp: string | null
      lease: ActiveLease
    }
  /** Another process is reporting this installation; try again after `retryInMs`. */
  | { kind: 'retry'; retryInMs: number }
  /** Nothing to send (no usable token, or another process already reported the change). */
  | { kind: 'skip'; error: { code: string; message: string } }

export interface ActiveLease {
  readonly token: string
  /** The store's change counter at the claim, for `reportFinished.lease`. */
  readonly pendingSeq: number
  /** Aborted if the lease is lost (it could not be renewed in time): the send must stop. */
  readonly signal: AbortSignal
  /** Stops renewing; called once the report has ended. */
  end(): void
  /** Frees the lease now, for a report that ends without a `reportFinished` write. */
  release(): Promise<void>
}

export interface LeaseCoordinatorOptions {
  leases: StoreLeases
  leaseMs: number
  /** A scheduled report is skipped if the installation was claimed less than this long ago. */
  scheduleIdleMs: number
  logger: Logger
}

interface Holding {
  installationId: string
  token: string
  controller: AbortController
  /** By this process's clock: when the lease ends if no renewal gets through. */
  validUntil: number
}

const MAX_POLL_MS = 1000

/**
 * The reporter's side of `store.leases`: one claim per report, renewed in the background while
 * the report runs (all held leases in one store call), and the policy of which reports need a
 * lease unconditionally and which only when work is owed.
 *
 * Reports for a change (`notify`, `recovery`) claim only while the installation is pending: if
 * another process cleared it after this one's pending mark was stored, that process read the
 * balances after the change and delivered them. Scheduled reports also claim an installation
 * that nobody claimed for `scheduleIdleMs`. `flush` and `report-all` always claim.
 */
export class LeaseCoordinator {
  private readonly owner = randomUUID()
  private claims = 0
  private readonly held = new Map<string, Holding>()
  private readonly busyStreak = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private readonly renewEveryMs: number

  constructor(private readonly options: LeaseCoordinatorOptions) {
    this.renewEveryMs = Math.max(20, Math.floor(options.leaseMs / 3))
  }

  async acquire(installationId: string, reason: ReportReason): Promise<Acquisition> {
    const token = `${this.owner}:${++this.claims}`
    const claimOptions: LeaseClaimOptions = { token, leaseMs: this.options.leaseMs }
    if (reason === 'notify' || reason === 'recovery') claimOptions.onlyIf = { pending: true }
    if (reason === 'schedule') {
      claimOptions.onlyIf = { pending: true, idleMs: this.options.scheduleIdleMs }
    }
    const requestedAt = Date.now()
    const claim = await this.options.leases.claim(installationId, claimOptions)
    if (claim.status !== 'busy') this.busyStreak.delete(installationId)
    switch (claim.status) {
      case 'claimed':
        return {
          kind: 'claimed',
          credentials: claim.credentials,
          lastTimestamp: claim.lastTimestamp,
          lease: this.hold(installationId, token, claim.pendingSeq, requestedAt),
        }
      case 'busy': {
        if (reason === 'schedule') {
          return skip('lease_held', 'another process is reporting this installation right now')
        }
        const streak = this.busyStreak.get(installationId) ?? 0
        this.busyStreak.set(installationId, streak + 1)
        // Poll with backoff (25 ms doubling to 1 s, jittered), but never past the lease's end.
        const backoff = Math.min(MAX_POLL_MS, 25 * 2 ** streak) * (0.5 + Math.random() / 2)
        return { kind: 'retry', retryInMs: Math.ceil(Math.min(backoff, claim.retryInMs + 5)) }
      }
      case 'idle':
        return skip('reported_elsewhere', 'another process already reported this change')
      case 'inactive':
        return skip(
          `token_${claim.tokenState}`,
          `token is ${claim.tokenState}; waiting for a new Upsert Installation`,
        )
      default:
        return skip('unknown_installation', 'no stored token for installation')
    }
  }

  /** Stops renewing; leases still held run out (their reports are being aborted anyway). */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private hold(installationId: string, token: string, pendingSeq: number, requestedAt: number) {
    const holding: Holding = {
      installationId,
      token,
      controller: new AbortController(),
      validUntil: requestedAt + this.options.leaseMs,
    }
    this.held.set(token, holding)
    if (!this.timer) {
      this.timer = setInterval(() => void this.renewAll(), this.renewEveryMs)
      this.timer.unref()
    }
    const end = () => {
      this.held.delete(token)
      if (this.held.size === 0) this.stop()
    }
    return {
      token,
      pendingSeq,
      signal: holding.controller.signal,
      end,
      release: async () => {
        end()
        await this.options.leases.release({ installationId, token }).catch((error: unknown) => {
          // It runs out by itself; another process then takes over after leaseMs.
          this.options.logger.warn('could not release a lease', {
            installationId,
            error: error instanceof Error ? error.message : String(error),
          })
        })
      },
    } satisfies ActiveLease
  }

  private async renewAll(): Promise<void> {
    const holdings = [...this.held.values()]
    if (holdings.length === 0) return this.stop()
    const requestedAt = Date.now()
    try {
      const kept = new Set(await this.options.leases.renew(holdings, this.options.leaseMs))
      for (const holding of holdings) {
        if (kept.has(holding.token)) holding.validUntil = requestedAt + this.options.leaseMs
        else this.lose(holding, 'lease taken over by another process')
      }
    } catch (error) {
      this.options.logger.warn('could not renew leases', {
        leases: holdings.length,
        error: error instanceof Error ? error.message : String(error),
      })
      // The next renewal would come too late: stop rather than risk two senders.
      const deadline = Date.now() + this.renewEveryMs
      for (const holding of holdings) {
        if (holding.validUntil <= deadline) this.lose(holding, 'lease could not be renewed')
      }
    }
  }

  private lose(holding: Holding, why: string): void {
    if (!this.held.delete(holding.token)) return
    this.options.logger.warn(`report aborted: ${why}`, { installationId: holding.installationId })
    holding.controller.abort()
  }
}

function skip(code: string, message: string): Acquisition {
  return { kind: 'skip', error: { code, message } }
}
