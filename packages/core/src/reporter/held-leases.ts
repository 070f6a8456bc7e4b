import { randomUUID } from 'node:crypto'
import type { Logger } from '../logger.js'
import type { LeaseClaim, StoredCredentials, StoreLeases } from '../store/store-types.js'
import type { AbortSignalLike } from '../submitter/submitter-types.js'
import { LeaseLostSignal } from './lease-lost-signal.js'

export interface ActiveLease {
  readonly token: string
  /** The store's change counter at the claim, for `reportFinished.lease`. */
  readonly pendingSeq: number
  /** Aborted if the lease is lost (it could not be renewed in time): the send must stop. */
  readonly signal: AbortSignalLike
  /** Stops renewing; called once the report has ended. */
  end(): void
  /** Frees the lease now, for a report that ends without a `reportFinished` write. */
  release(): Promise<void>
}

/** A lease the store granted, held by this process: what a report may send under. */
export interface ClaimedLease {
  kind: 'claimed'
  credentials: StoredCredentials
  /** The last timestamp any process sent: the floor for this one. */
  lastTimestamp: string | null
  lease: ActiveLease
  /**
   * Claimed ahead (`claimAhead`): the report's timestamp, reserved (stored) by the claim, and
   * when this process asked for it (its `Date.now()`), taken before any balance was read.
   */
  reserved?: { timestamp: string; at: number }
}

export interface HeldLeasesOptions {
  leases: StoreLeases
  leaseMs: number
  logger: Logger
  /** A lease claimed ahead and not yet taken by its report was lost. */
  onIdleLost: (installationId: string, token: string) => void
}

/**
 * The leases this process holds, renewed in the background while their reports run (all of them
 * in one store call). A lease that cannot be renewed in time is lost: its report is aborted
 * (`ActiveLease.signal`) rather than risk two processes sending for one installation.
 */
export class HeldLeases {
  private readonly owner = randomUUID()
  private claims = 0
  private readonly held = new Map<string, Holding>()
  private timer: NodeJS.Timeout | null = null
  private readonly renewEveryMs: number

  constructor(private readonly options: HeldLeasesOptions) {
    this.renewEveryMs = Math.max(20, Math.floor(options.leaseMs / 3))
  }

  /** A token for the next claim: only the claim that took a lease can renew or release it. */
  nextToken(): string {
    return `${this.owner}:${++this.claims}`
  }

  /**
   * Holds the lease the store granted to the claim made with `token` at `requestedAt`; `idle`
   * for a lease claimed ahead, that no report has taken yet.
   */
  hold(
    installationId: string,
    token: string,
    claim: Extract<LeaseClaim, { status: 'claimed' }>,
    requestedAt: number,
    idle: boolean,
  ): ClaimedLease {
    const lease = new Holding(this, installationId, token, claim.pendingSeq, idle)
    lease.validUntil = requestedAt + this.options.leaseMs
    this.held.set(token, lease)
    if (!this.timer) {
      this.timer = setInterval(() => void this.renewAll(), this.renewEveryMs)
      this.timer.unref()
    }
    // Written out (no spread): one per report.
    const claimed: ClaimedLease = {
      kind: 'claimed',
      credentials: claim.credentials,
      lastTimestamp: claim.lastTimestamp,
      lease,
    }
    if (claim.reservedTimestamp) {
      claimed.reserved = { timestamp: claim.reservedTimestamp, at: requestedAt }
    }
    return claimed
  }

  /** A report takes the lease claimed ahead for it: false if it was lost meanwhile. */
  take(token: string): boolean {
    const holding = this.held.get(token)
    if (!holding) return false
    holding.idle = false
    return true
  }

  /** Stops renewing; leases still held run out (their reports are being aborted anyway). */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** The lease stops being renewed (its report has ended, or it was released). */
  ended(lease: Holding): void {
    this.held.delete(lease.token)
    if (this.held.size === 0) this.stop()
  }

  /** Frees the lease in the store now (see `ActiveLease.release`). */
  async released(lease: Holding): Promise<void> {
    this.ended(lease)
    const { installationId, token } = lease
    await this.options.leases.release({ installationId, token }).catch((error: unknown) => {
      // It runs out by itself; another process then takes over after leaseMs.
      this.options.logger.warn('could not release a lease', {
        installationId,
        error: error instanceof Error ? error.message : String(error),
      })
    })
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
    if (holding.idle) {
      // Claimed ahead and not yet taken: no report to stop; its report will claim afresh.
      this.options.onIdleLost(holding.installationId, holding.token)
      return
    }
    this.options.logger.warn(`report aborted: ${why}`, { installationId: holding.installationId })
    holding.signal.abort()
  }
}

/**
 * A lease this process holds, as its report sees it (`ActiveLease`) and as renewal tracks it.
 * A class, not an object of closures: one is made per report.
 */
class Holding implements ActiveLease {
  readonly signal = new LeaseLostSignal()
  /** By this process's clock: when the lease ends if no renewal gets through. */
  validUntil = 0

  constructor(
    private readonly owner: HeldLeases,
    readonly installationId: string,
    readonly token: string,
    readonly pendingSeq: number,
    /** Claimed ahead (`claimAhead`) and not yet taken by a report. */
    public idle: boolean,
  ) {}

  end(): void {
    this.owner.ended(this)
  }

  release(): Promise<void> {
    return this.owner.released(this)
  }
}
