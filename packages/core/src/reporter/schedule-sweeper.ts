import type { Logger } from '../logger.js'
import type { BalanceStore } from '../store/store-types.js'

export interface SweeperDeps {
  store: BalanceStore
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
 */
export class ScheduleSweeper {
  private timer: NodeJS.Timeout | null = null
  private releaseTimer: NodeJS.Timeout | null = null
  private releasing: string[] = []
  private releasingSet = new Set<string>()
  private releaseEveryMs = 0
  private stopped = false
  readonly periodMs: number

  constructor(private readonly deps: SweeperDeps) {
    this.periodMs = sweepPeriodFor(deps.reportIntervalMs)
  }

  start(): void {
    this.stopped = false
    void this.sweep()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.releaseTimer) clearTimeout(this.releaseTimer)
    this.timer = null
    this.releaseTimer = null
    this.releasing = []
    this.releasingSet.clear()
  }

  /** One sweep: pending installations now, due ones spread over the next period. */
  async sweep(): Promise<void> {
    try {
      const pending = await this.deps.store.listPending(PAGE)
      for (const id of pending) if (!this.deps.isBusy(id)) this.deps.request(id, 'recovery')
      const before = Date.now() - this.deps.reportIntervalMs + 2 * this.periodMs
      const due = await this.deps.store.listDue(before, PAGE * 10)
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
