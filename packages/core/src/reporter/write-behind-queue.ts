import type { Logger } from '../logger.js'
import type { BalanceStore, StoreWrite } from '../store/store-types.js'

/**
 * Collects store writes from the hot path and commits them in batches: one `write()` (one
 * transaction) per batch. A batch starts on the next turn of the event loop, but no sooner than
 * `minIntervalMs` after the previous one began, unless someone awaits `commit()`: under load a
 * busy server then pays one transaction per interval instead of one per turn (which profiled at
 * ~15% of a request's CPU with a cheap route), while a quiet one still writes within a turn.
 * Durability is what `commit()` promises; until then a pending mark may wait `minIntervalMs`.
 * A failed batch is kept and retried, never dropped.
 *
 * `enqueueLater` writes (one per key) wait up to `laterIntervalMs` before joining a batch, unless
 * a `commit()` (or a `commitFor` of their key) wants them sooner.
 */
export class WriteBehindQueue {
  private buffer: StoreWrite[] = []
  /** Keys of `enqueueOnce` writes in `buffer` that no `write()` has taken yet. */
  private bufferedKeys = new Set<string>()
  private enqueued = 0
  private committed = 0
  private running = false
  private scheduled = false
  private retryDelayMs = 0
  /** When the last batch began (performance.now()), for pacing. */
  private lastBatchAt = Number.NEGATIVE_INFINITY
  /** The paced timer of a scheduled run, cleared when a `commit()` hurries it. */
  private pacedTimer: NodeJS.Timeout | null = null
  private waiters: Array<{ target: number; resolve: () => void }> = []
  /** `enqueueLater` writes by key, not yet in `buffer` (nor counted in `enqueued`). */
  private later = new Map<string, StoreWrite>()
  private laterTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly store: BalanceStore,
    private readonly ready: Promise<void>,
    private readonly logger: Logger,
    private readonly minIntervalMs = 0,
    private readonly laterIntervalMs = minIntervalMs,
  ) {}

  enqueue(write: StoreWrite): void {
    this.buffer.push(write)
    this.enqueued++
    this.schedule()
  }

  /**
   * Enqueues `write` unless a write with the same key is still waiting for its batch to start:
   * that one will reach the store after this call, which is all a caller of this can need.
   */
  enqueueOnce(key: string, write: StoreWrite): void {
    if (this.bufferedKeys.has(key)) return
    this.bufferedKeys.add(key)
    this.enqueue(write)
  }

  /**
   * Like `enqueueOnce`, but the write may wait `laterIntervalMs` (for writes that only repeat
   * what the store already holds for a crash to lose little): many of them then share a batch.
   */
  enqueueLater(key: string, write: StoreWrite): void {
    if (this.bufferedKeys.has(key) || this.later.has(key)) return
    this.later.set(key, write)
    this.laterTimer ??= setTimeout(() => {
      this.laterTimer = null
      this.releaseLater()
    }, this.laterIntervalMs)
  }

  /** Resolves once every write enqueued before this call is committed. */
  commit(): Promise<void> {
    this.releaseLater()
    return this.commitReleased()
  }

  /**
   * `commit()` for one key: its `enqueueLater` write joins the batch; other keys' keep waiting.
   * Resolves once it and every write enqueued without waiting before this call are committed.
   */
  commitFor(key: string): Promise<void> {
    const write = this.later.get(key)
    if (write) {
      this.later.delete(key)
      this.enqueueOnce(key, write)
    }
    return this.commitReleased()
  }

  private commitReleased(): Promise<void> {
    if (this.committed >= this.enqueued) return Promise.resolve()
    const target = this.enqueued
    const done = new Promise<void>((resolve) => this.waiters.push({ target, resolve }))
    this.hurry()
    return done
  }

  get size(): number {
    return this.enqueued - this.committed + this.later.size
  }

  /** Every `enqueueLater` write joins the next batch, as `enqueueOnce` (a key there covers it). */
  private releaseLater(): void {
    if (this.later.size === 0) return
    for (const [key, write] of this.later) this.enqueueOnce(key, write)
    this.later.clear()
  }

  private schedule(): void {
    if (this.scheduled || this.running) return
    this.scheduled = true
    if (this.retryDelayMs > 0) {
      setTimeout(() => this.run(), this.retryDelayMs)
      return
    }
    const wait =
      this.waiters.length > 0 ? 0 : this.lastBatchAt + this.minIntervalMs - performance.now()
    if (wait <= 0) {
      setImmediate(() => this.run())
      return
    }
    this.pacedTimer = setTimeout(() => {
      this.pacedTimer = null
      void this.run()
    }, wait)
  }

  /** Someone waits for the writes: a paced batch starts now instead of at its turn. */
  private hurry(): void {
    if (!this.pacedTimer) return
    clearTimeout(this.pacedTimer)
    this.pacedTimer = null
    setImmediate(() => this.run())
  }

  private async run(): Promise<void> {
    this.scheduled = false
    if (this.running || this.buffer.length === 0) return
    this.running = true
    this.lastBatchAt = performance.now()
    const batch = this.buffer
    this.buffer = []
    this.bufferedKeys.clear()
    try {
      await this.ready
      await this.store.write(batch)
      this.committed += batch.length
      this.retryDelayMs = 0
      this.resolveWaiters()
    } catch (error) {
      // Keep the batch, in order, ahead of anything enqueued meanwhile; retry with backoff.
      this.buffer = batch.concat(this.buffer)
      this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 100), 10_000)
      this.logger.error('store write failed; will retry', {
        store: this.store.kind,
        writes: batch.length,
        retryInMs: this.retryDelayMs,
        error: error instanceof Error ? error.message : String(error),
      })
    } finally {
      this.running = false
    }
    if (this.buffer.length > 0) this.schedule()
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return
    const still: typeof this.waiters = []
    for (const waiter of this.waiters) {
      if (this.committed >= waiter.target) waiter.resolve()
      else still.push(waiter)
    }
    this.waiters = still
  }
}
