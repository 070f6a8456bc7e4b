import type { Logger } from '../logger.js'
import type { StoreLeases } from '../store/store-types.js'
import { ClaimAhead, type ClaimPlan } from './claim-ahead.js'
import { ClaimPolicy } from './claim-policy.js'
import { type ClaimedLease, HeldLeases } from './held-leases.js'
import type { ReportReason } from './reporter-types.js'

export type { ClaimPlan } from './claim-ahead.js'
export type { ActiveLease } from './held-leases.js'

/** What a report may do after asking for the installation's lease. */
export type Acquisition =
  | ClaimedLease
  /** Another process is reporting this installation; try again after `retryInMs`. */
  | { kind: 'retry'; retryInMs: number }
  /** Nothing to send (no usable token, or another process already reported the change). */
  | { kind: 'skip'; error: { code: string; message: string } }

export interface LeaseCoordinatorOptions {
  leases: StoreLeases
  leaseMs: number
  /** A scheduled report is skipped if the installation was claimed less than this long ago. */
  scheduleIdleMs: number
  /** How many leases `claimAhead` takes per store call. */
  claimChunk: number
  /**
   * Awaited before every claim of the installation: commits this process's pending marks of it
   * and its finished reports, so the claim sees them (whether a report is still owed; the end of
   * this process's own lease).
   */
  beforeClaim?: (installationId: string) => Promise<void>
  logger: Logger
}

/**
 * The reporter's side of `store.leases`: one claim per report, under the claim policy
 * (claim-policy.ts), held and renewed while the report runs (held-leases.ts), or taken from a
 * chunk claimed ahead for `reportAll`/`reportDue` (claim-ahead.ts).
 */
export class LeaseCoordinator {
  private readonly policy: ClaimPolicy
  private readonly held: HeldLeases
  private readonly ahead: ClaimAhead

  constructor(private readonly options: LeaseCoordinatorOptions) {
    const { leases, leaseMs, logger } = options
    this.policy = new ClaimPolicy(leaseMs, options.scheduleIdleMs)
    this.held = new HeldLeases({
      leases,
      leaseMs,
      logger,
      onIdleLost: (installationId, token) => this.ahead.lost(installationId, token),
    })
    this.ahead = new ClaimAhead({
      leases,
      held: this.held,
      policy: this.policy,
      chunkSize: options.claimChunk,
      logger,
    })
  }

  /**
   * The installation's lease for a report. Not a promise when the lease was claimed ahead and
   * is ready: no async step for most reports of `reportAll`.
   */
  acquire(installationId: string, reason: ReportReason): Acquisition | Promise<Acquisition> {
    const ahead = this.ahead.take(installationId)
    if (ahead === null) return this.claim(installationId, reason)
    if (ahead instanceof Promise) {
      return ahead.then((taken) => taken ?? this.claim(installationId, reason))
    }
    return ahead
  }

  /** One store call for the installation's lease. */
  private async claim(installationId: string, reason: ReportReason): Promise<Acquisition> {
    const released = this.ahead.releaseOf(installationId)
    if (released) await released // else the claim could find this process's own lease
    await this.options.beforeClaim?.(installationId)
    const token = this.held.nextToken()
    const requestedAt = Date.now()
    const claim = await this.options.leases.claim(installationId, {
      ...this.policy.options(reason),
      token,
    })
    if (claim.status !== 'busy') this.policy.answered(installationId)
    switch (claim.status) {
      case 'claimed':
        return this.held.hold(installationId, token, claim, requestedAt, false)
      case 'busy':
        if (reason === 'schedule') {
          return skip('lease_held', 'another process is reporting this installation right now')
        }
        return { kind: 'retry', retryInMs: this.policy.retryInMs(installationId, claim.retryInMs) }
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

  /** Plans the leases of a page of reports about to be requested (see claim-ahead.ts). */
  claimAhead(ids: readonly string[], reason: ReportReason): ClaimPlan {
    return this.ahead.plan(ids, reason)
  }

  /**
   * A change was notified, or a new token stored, for the installation: a lease claimed ahead
   * for it is given back (see `ClaimAhead.forget`).
   */
  forgetClaimedAhead(installationId: string): void {
    this.ahead.forget(installationId)
  }

  /** Stops renewing; leases still held run out (their reports are being aborted anyway). */
  stop(): void {
    this.held.stop()
  }

  /**
   * For a closing reporter, once no report is in flight: frees the leases claimed ahead for
   * reports that will not run, then stops renewing.
   */
  async close(): Promise<void> {
    await this.ahead.close()
    this.held.stop()
  }
}

function skip(code: string, message: string): Acquisition {
  return { kind: 'skip', error: { code, message } }
}
