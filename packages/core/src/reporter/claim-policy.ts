import type { LeaseBatchOptions } from '../store/store-types.js'
import type { ReportReason } from './reporter-types.js'

const MAX_POLL_MS = 1000

/**
 * Which reports need a lease unconditionally and which only when work is owed, and how long a
 * report waits for a lease another process holds.
 *
 * Reports for a change (`notify`, `recovery`) claim only while the installation is pending: if
 * another process cleared it after this one's pending mark was stored, that process read the
 * balances after the change and delivered them. Scheduled reports also claim an installation
 * that nobody claimed for `scheduleIdleMs`. `flush` and `report-all` always claim.
 */
export class ClaimPolicy {
  /** Per installation: how many claims in a row found its lease busy. */
  private readonly busyStreak = new Map<string, number>()

  constructor(
    private readonly leaseMs: number,
    private readonly scheduleIdleMs: number,
  ) {}

  options(reason: ReportReason): LeaseBatchOptions {
    const options: LeaseBatchOptions = { leaseMs: this.leaseMs }
    if (reason === 'notify' || reason === 'recovery') options.onlyIf = { pending: true }
    if (reason === 'schedule') {
      options.onlyIf = { pending: true, idleMs: this.scheduleIdleMs }
    }
    return options
  }

  /** A claim for the installation got an answer other than busy: its backoff starts over. */
  answered(installationId: string): void {
    this.busyStreak.delete(installationId)
  }

  /** The lease is busy for another `leaseRetryInMs` (by the store): when to claim again. */
  retryInMs(installationId: string, leaseRetryInMs: number): number {
    const streak = this.busyStreak.get(installationId) ?? 0
    this.busyStreak.set(installationId, streak + 1)
    // Poll with backoff (25 ms doubling to 1 s, jittered), but never past the lease's end.
    const backoff = Math.min(MAX_POLL_MS, 25 * 2 ** streak) * (0.5 + Math.random() / 2)
    return Math.ceil(Math.min(backoff, leaseRetryInMs + 5))
  }
}
