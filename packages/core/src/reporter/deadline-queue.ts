import { FifoQueue } from './fifo-queue.js'

/**
 * Fires callbacks at deadlines with ONE timer. Every entry uses the same delay (the coalescing
 * window), so entries pushed in time order are already sorted by deadline: a FIFO suffices and
 * `push` stays O(1). An entry is skipped if `isCurrent` says it was superseded (lazy cancel).
 */
export class DeadlineQueue<T> {
  private queue = new FifoQueue<{ item: T; due: number }>()
  private timer: NodeJS.Timeout | null = null
  private timerDue = Number.POSITIVE_INFINITY

  constructor(
    private readonly fire: (item: T, due: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** `due` must not be earlier than the previous push's (true when the delay is constant). */
  push(item: T, due: number): void {
    this.queue.push({ item, due })
    if (this.queue.length === 1) this.arm(due)
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.timerDue = Number.POSITIVE_INFINITY
    this.queue.clear()
  }

  private arm(due: number): void {
    if (this.timer && this.timerDue <= due) return
    if (this.timer) clearTimeout(this.timer)
    this.timerDue = due
    this.timer = setTimeout(() => this.drain(), Math.max(0, due - this.now()))
    // Timers never keep the host process alive on their own.
    this.timer.unref()
  }

  private drain(): void {
    this.timer = null
    this.timerDue = Number.POSITIVE_INFINITY
    const now = this.now()
    for (let next = this.queue.peek(); next && next.due <= now; next = this.queue.peek()) {
      this.queue.shift()
      this.fire(next.item, next.due)
    }
    const head = this.queue.peek()
    if (head) this.arm(head.due)
  }
}
