import { DeadlineQueue } from './deadline-queue.js'
import { FifoQueue } from './fifo-queue.js'
import type { ReportReason, ReportResult } from './reporter-types.js'
import type { SendReportOutcome } from './send-report.js'

/** Per-installation bookkeeping; exists only while the installation has work. */
interface Slot {
  id: string
  /** Bumped by every request for a report (a notify, a flush, a scheduled report). */
  seq: number
  /** The `seq` covered by the last finished report. */
  doneSeq: number
  /** `seq` read by the report in flight. */
  flightSeq: number
  inFlight: boolean
  queued: boolean
  /** Deadline in the coalescing queue, or null when none is armed. */
  due: number | null
  reason: ReportReason
  /** The oldest requester's seq waits for a report that read at least that seq. */
  waiters: Array<{ seq: number; resolve: (result: ReportResult) => void }>
  /** The last timestamp this process sent: a floor if the store lags behind. */
  lastTimestamp: string | null
}

export interface RunResult {
  result: ReportResult
  timestamp: string | null
  /** The store write recording the result, if any (passed through to `finished`). */
  finished: SendReportOutcome['finished']
  /**
   * The report could not start (another process holds the installation's lease): it is not
   * done; the slot is tried again after this delay and its waiters keep waiting.
   */
  retryInMs?: number
}

export interface DispatcherHooks {
  /** Sends one report; must not throw. */
  run(id: string, reason: ReportReason, lastTimestamp: string | null): Promise<RunResult>
  /** Called after each report, with whether newer requests arrived while it was in flight. */
  finished(id: string, outcome: RunResult, newerRequestsArrived: boolean): void
  /** Called by every `request` (a change, a new token), before the report it asks for runs. */
  requested?(id: string): void
}

/**
 * Decides when each installation is reported. Guarantees, per installation: at most one report
 * in flight and at most one pending behind it; a pending report reads balances after the latest
 * request that preceded it; a request waits at most `coalesceMs` (plus queueing behind the
 * concurrency limit). Across installations at most `concurrency` reports run at once.
 */
export class ReportDispatcher {
  private slots = new Map<string, Slot>()
  private ready = new FifoQueue<Slot>()
  private active = 0
  private stopped = false
  private idleWaiters: Array<() => void> = []
  private readonly deadlines: DeadlineQueue<Slot>

  constructor(
    private readonly coalesceMs: number,
    private readonly concurrency: number,
    private readonly hooks: DispatcherHooks,
  ) {
    this.deadlines = new DeadlineQueue((slot, due) => {
      if (slot.due !== due || this.slots.get(slot.id) !== slot) return // superseded
      slot.due = null
      this.makeReady(slot)
    })
  }

  /** Records a request and arms the coalescing window. O(1), never throws. */
  request(id: string, reason: ReportReason): void {
    if (this.stopped) return
    this.hooks.requested?.(id)
    const slot = this.slot(id)
    slot.seq++
    if (slot.reason === 'notify' || slot.reason === 'schedule') slot.reason = reason
    if (slot.queued || slot.due !== null) return
    const due = Date.now() + this.coalesceMs
    slot.due = due
    this.deadlines.push(slot, due)
  }

  /** Requests a report as soon as a concurrency slot frees up, without waiting for the result. */
  requestSoon(id: string, reason: ReportReason): void {
    if (this.stopped) return
    const slot = this.slot(id)
    slot.seq++
    slot.reason = reason
    if (slot.due !== null) slot.due = null
    this.makeReady(slot)
  }

  /** Requests a report now (skipping the coalescing window) and resolves with its result. */
  requestNow(id: string, reason: ReportReason): Promise<ReportResult> {
    const slot = this.slot(id)
    slot.seq++
    slot.reason = reason
    const promise = this.waitFor(slot, slot.seq)
    if (slot.due !== null) slot.due = null // lazily cancels the deadline
    this.makeReady(slot)
    return promise
  }

  /**
   * `requestNow` for many installations (`reportAll`): `onResult` is called with each one's
   * result, when its promise would resolve, instead of a promise (and its reaction) per report.
   */
  requestNowThen(id: string, reason: ReportReason, onResult: (result: ReportResult) => void) {
    const slot = this.slot(id)
    slot.seq++
    slot.reason = reason
    slot.waiters.push({ seq: slot.seq, resolve: onResult })
    if (slot.due !== null) slot.due = null // lazily cancels the deadline
    this.makeReady(slot)
  }

  /** Sends every outstanding request now; resolves when each was reported. */
  expediteAll(): Promise<ReportResult[]> {
    const waits: Promise<ReportResult>[] = []
    for (const slot of this.slots.values()) {
      if (slot.seq <= slot.doneSeq) continue
      waits.push(this.waitFor(slot, slot.seq))
      if (slot.due !== null) slot.due = null
      this.makeReady(slot)
    }
    return Promise.all(waits)
  }

  isBusy(id: string): boolean {
    const slot = this.slots.get(id)
    return slot !== undefined && (slot.inFlight || slot.queued || slot.due !== null)
  }

  isInFlight(id: string): boolean {
    return this.slots.get(id)?.inFlight ?? false
  }

  hasUnsent(id: string): boolean {
    const slot = this.slots.get(id)
    return slot !== undefined && slot.seq > slot.doneSeq
  }

  /** Seeds the monotonic floor for an installation. */
  noteTimestamp(id: string, timestamp: string | null): void {
    const slot = this.slots.get(id)
    if (slot && timestamp) slot.lastTimestamp = timestamp
  }

  /** Forgets an installation: cancels its queued work and releases its waiters. */
  forget(id: string, result: ReportResult): void {
    const slot = this.slots.get(id)
    if (!slot) return
    slot.due = null
    for (const waiter of slot.waiters) waiter.resolve(result)
    slot.waiters = []
    if (!slot.inFlight) this.slots.delete(id)
    else slot.doneSeq = slot.seq // the flight's end will drop it
  }

  get inFlightCount(): number {
    return this.active
  }

  get size(): number {
    return this.slots.size
  }

  /** Stops scheduling; resolves once reports in flight have finished. */
  async stop(release: (id: string) => ReportResult): Promise<void> {
    this.stopped = true
    this.deadlines.stop()
    this.ready.clear()
    for (const slot of this.slots.values()) {
      slot.queued = false
      slot.due = null
      if (!slot.inFlight) {
        for (const waiter of slot.waiters) waiter.resolve(release(slot.id))
        slot.waiters = []
      }
    }
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  private slot(id: string): Slot {
    let slot = this.slots.get(id)
    if (!slot) {
      slot = {
        id,
        seq: 0,
        doneSeq: 0,
        flightSeq: 0,
        inFlight: false,
        queued: false,
        due: null,
        reason: 'notify',
        waiters: [],
        lastTimestamp: null,
      }
      this.slots.set(id, slot)
    }
    return slot
  }

  private waitFor(slot: Slot, seq: number): Promise<ReportResult> {
    return new Promise((resolve) => slot.waiters.push({ seq, resolve }))
  }

  private makeReady(slot: Slot): void {
    if (this.stopped || slot.queued || slot.inFlight) return // a flight re-queues itself on finish
    slot.queued = true
    this.ready.push(slot)
    this.pump()
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.ready.length > 0) {
      const slot = this.ready.shift()!
      slot.queued = false
      if (this.slots.get(slot.id) !== slot || slot.seq <= slot.doneSeq) continue
      void this.fly(slot)
    }
  }

  private async fly(slot: Slot): Promise<void> {
    this.active++
    slot.inFlight = true
    slot.flightSeq = slot.seq
    const reason = slot.reason
    slot.reason = 'notify'
    let outcome: RunResult
    try {
      outcome = await this.hooks.run(slot.id, reason, slot.lastTimestamp)
    } catch (error) {
      // `run` never throws by contract; this keeps a bug from wedging the installation forever.
      const message = error instanceof Error ? error.message : String(error)
      outcome = {
        result: {
          installationId: slot.id,
          outcome: 'failed',
          reason,
          attempts: 0,
          durationMs: 0,
          timestamp: null,
          status: null,
          vercelRequestId: null,
          error: { code: 'internal_error', message },
        },
        timestamp: null,
        finished: null,
      }
    }
    slot.inFlight = false
    this.active--
    if (outcome.retryInMs !== undefined && this.retryLater(slot, reason, outcome.retryInMs)) return
    if (outcome.timestamp) slot.lastTimestamp = outcome.timestamp
    const covered = slot.flightSeq
    slot.doneSeq = Math.max(slot.doneSeq, covered)
    const newer = slot.seq > covered
    // Filtered in place: no new array per report. Safe while waiters run: a promise's resolve
    // runs nothing now, and requestNowThen's callbacks only count and free leases, never this slot.
    const waiters = slot.waiters
    let kept = 0
    for (const waiter of waiters) {
      if (waiter.seq <= covered) waiter.resolve(outcome.result)
      else waiters[kept++] = waiter
    }
    waiters.length = kept
    this.hooks.finished(slot.id, outcome, newer)
    if (this.slots.get(slot.id) === slot) {
      // Requests that arrived during the flight are sent now if their window already elapsed
      // (the deadline fired while we were busy), otherwise when their deadline fires.
      if (newer && slot.due === null) this.makeReady(slot)
      else if (!newer && slot.waiters.length === 0 && slot.due === null) this.slots.delete(slot.id)
    }
    this.afterFlight()
  }

  /** A flight that could not start: re-armed without counting as a report. */
  private retryLater(slot: Slot, reason: ReportReason, retryInMs: number): boolean {
    if (this.stopped || this.slots.get(slot.id) !== slot || slot.seq <= slot.doneSeq) return false
    if (slot.reason === 'notify' || slot.reason === 'schedule') slot.reason = reason
    const due = Date.now() + retryInMs
    if (slot.due === null || slot.due > due) {
      slot.due = due
      this.deadlines.push(slot, due)
    }
    this.afterFlight()
    return true
  }

  private afterFlight(): void {
    if (this.active === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve()
    }
    this.pump()
  }
}
