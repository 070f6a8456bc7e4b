import type { Logger } from '../logger.js'
import type { BalanceStore, StoreWrite } from '../store/store-types.js'

/**
 * Collects store writes from the hot path and commits them in batches: everything enqueued in
 * one turn of the event loop goes to the store in a single `write()` (one transaction, one
 * fsync). That is what keeps `notify()` cheap while its pending mark still reaches disk within
 * about a millisecond. A failed batch is kept and retried, never dropped.
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
  private waiters: Array<{ target: number; resolve: () => void }> = []

  constructor(
    private readonly store: BalanceStore,
    private readonly ready: Promise<void>,
    private readonly logger: Logger,
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

  /** Resolves once every write enqueued before this call is committed. */
  commit(): Promise<void> {
    if (this.committed >= this.enqueued) return Promise.resolve()
    const target = this.enqueued
    return new Promise((resolve) => this.waiters.push({ target, resolve }))
  }

  get size(): number {
    return this.enqueued - this.committed
  }

  private schedule(): void {
    if (this.scheduled || this.running) return
    this.scheduled = true
    if (this.retryDelayMs > 0) setTimeout(() => this.run(), this.retryDelayMs)
    else setImmediate(() => this.run())
  }

  private async run(): Promise<void> {
    this.scheduled = false
    if (this.running || this.buffer.length === 0) return
    this.running = true
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
