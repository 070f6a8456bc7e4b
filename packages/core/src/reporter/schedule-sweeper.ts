import type { Logger } from '../logger.js'
import type { BalanceStore, StoreLeases } from '../store/store-types.js'

export interface SweeperDeps {
  store: BalanceStore
  /** Stores shared by several processes: sweeps claim their work atomically (see below). */
  leases?: { leases: StoreLeases; leaseMs: number }
  reportIntervalMs: number
  logger: Logger
  /** Asks for a report of one installation soon (no coalescing window: this is already spread). */
  request(id: string, reason: 'schedule' | 'recovery'): void
  isBusy(id: string): boolean
}

/** How often the sweeper looks for due installations: 1/20 of the interval, within [100 ms, 5 min]. */
export function sweepPeriodFor(reportIntervalMs: number): number {
  return Math.min(Math.max(Math.floor(reportIntervalMs / 20), 100), 300_000)
}

const PAGE = 5000

/**
 * Keeps the "every installation at least once per interval" promise without a fan-out burst.
 *
 * Every sweep period P it lists installations whose last attempt is older than `interval - 2P`
 * and releases them in random order, evenly over the next P. An installation last attempted at
 * t is therefore found by t + interval - P and sent by t + interval. Pending installations (a
 * change not yet delivered, e.g. after a crash or an outage) are retried every sweep as well.
 *
 * With leases (several processes on one store), N replicas must not send N times: due
 * installations are reserved atomically (`reserveDue`, by the store's clock) so each goes to one
 * replica; pending ones are listed only when no live lease covers them and their last failure
 * is at least ~P old, and the claim of each report re-checks that work is still owed. A crashed
 * replica's work (expired leases, changes pending for longer than a lease) is looked for every
 * third of `leaseMs`, so it resumes within about 4/3 of `leaseMs` (20 s by default).
 */
export class ScheduleSweeper {
  private timer: NodeJS.Timeout | null = null
  private orphanTimer: NodeJS.Timeout | null = null
  private releaseTimer: NodeJS.Timeout | null = null
  private releasing: string[] = []
  private releasingSet = new Set<string>()
  private releaseEveryMs = 0
  private stopped = false
  readonly periodMs: number
  /** A failed report is retried about once per period, whichever replica sweeps first. */
  private readonly retryFailedAfterMs: number

  constructor(private readonly deps: SweeperDeps) {
    this.periodMs = sweepPeriodFor(deps.reportIntervalMs)
    this.retryFailedAfterMs = Math.floor(this.periodMs * 0.9)
  }

  start(): void {
    this.stopped = false
    void this.sweep()
    const leases = this.deps.leases
    if (leases && !this.orphanTimer) {
      this.orphanTimer = setInterval(
        () => void this.recoverOrphaned(),
        Math.max(50, Math.floor(leases.leaseMs / 3)),
      )
      this.orphanTimer.unref()
    }
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.orphanTimer) clearInterval(this.orphanTimer)
    if (this.releaseTimer) clearTimeout(this.releaseTimer)
    this.timer = null
    this.orphanTimer = null
    this.releaseTimer = null
    this.releasing = []
    this.releasingSet.clear()
  }

  /** One sweep: pending installations now, due ones spread over the next period. */
  async sweep(): Promise<void> {
    try {
      const olderThanMs = this.deps.reportIntervalMs - 2 * this.periodMs
      const leases = this.deps.leases?.leases
      const pending = leases
        ? await leases.listUnattended({ retryFailedAfterMs: this.retryFailedAfterMs, limit: PAGE })
        : await this.deps.store.listPending(PAGE)
      this.recover(pending)
      const due = leases
        ? await leases.reserveDue(olderThanMs, 2 * this.periodMs, PAGE * 10)
        : await this.deps.store.listDue(Date.now() - olderThanMs, PAGE * 10)
      this.spread(due.filter((id) => !this.releasingSet.has(id)))
    } catch (error) {
      this.deps.logger.error('scheduled sweep failed; retrying next period', {
        error: error instanceof Error ? error.message : String(error),
      })
    }
    if (this.stopped) return
    this.timer = setTimeout(() => void this.sweep(), this.periodMs)
    this.timer.unref()
  }

  /**
   * A crashed replica's work: reports whose lease ran out before they finished, and changes it
   * accepted (marked pending) but did not report within a lease's time.
   */
  async recoverOrphaned(): Promise<void> {
    const coordination = this.deps.leases
    if (!coordination) return
    try {
      const orphaned = await coordination.leases.listUnattended({
        retryFailedAfterMs: this.retryFailedAfterMs,
        pendingForMs: coordination.leaseMs,
        limit: PAGE,
      })
      if (!this.stopped) this.recover(orphaned)
    } catch (error) {
      this.deps.logger.error('looking for abandoned leases failed; retrying', {
        error: error instanceof Error ? error.message : String(error),
      })
    }
  }

  private recover(ids: readonly string[]): void {
    for (const id of ids) if (!this.deps.isBusy(id)) this.deps.request(id, 'recovery')
  }

  private spread(ids: string[]): void {
    if (this.stopped || ids.length === 0) return
    shuffle(ids)
    for (const id of ids) this.releasingSet.add(id)
    this.releasing = this.releasing.concat(ids)
    // Release in ~50 slices over the period: jittered order, bounded burst per slice.
    this.releaseEveryMs = Math.max(20, Math.floor(this.periodMs / 50))
    if (!this.releaseTimer) this.releaseNext()
  }

  private releaseNext(): void {
    this.releaseTimer = null
    if (this.stopped || this.releasing.length === 0) return
    const slice = Math.max(1, Math.ceil(this.releasing.length / 50))
    for (const id of this.releasing.splice(0, slice)) {
      this.releasingSet.delete(id)
      if (!this.deps.isBusy(id)) this.deps.request(id, 'schedule')
    }
    if (this.releasing.length === 0) return
    this.releaseTimer = setTimeout(() => this.releaseNext(), this.releaseEveryMs)
    this.releaseTimer.unref()
  }
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
}
