import { FifoQueue } from './fifo-queue.js'
import { MinHeap } from './min-heap.js'

interface Entry<T> {
  item: T
  due: number
}

/**
 * Fires callbacks at deadlines with ONE timer. Nearly every entry uses the same delay (the
 * coalescing window), so entries pushed in time order are already sorted by deadline: a FIFO
 * keeps `push` O(1) for them. The few that are due earlier than the last one pushed (a retry
 * after another process's lease, with its own shorter delay) go to a small heap instead, so
 * they are not held back behind later deadlines. An entry is skipped by the caller if it was
 * superseded (lazy cancel).
 */
export class DeadlineQueue<T> {
  private inOrder = new FifoQueue<Entry<T>>()
  private early = new MinHeap<Entry<T>>((a, b) => a.due - b.due)
  private lastInOrderDue = Number.NEGATIVE_INFINITY
  private timer: NodeJS.Timeout | null = null
  private timerDue = Number.POSITIVE_INFINITY

  constructor(
    private readonly fire: (item: T, due: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(item: T, due: number): void {
    if (due >= this.lastInOrderDue) {
      this.inOrder.push({ item, due })
      this.lastInOrderDue = due
    } else {
      this.early.push({ item, due })
    }
    this.arm(due)
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.timerDue = Number.POSITIVE_INFINITY
    this.inOrder.clear()
    this.early.clear()
    this.lastInOrderDue = Number.NEGATIVE_INFINITY
  }

  private arm(due: number): void {
    if (this.timer && this.timerDue <= due) return
    if (this.timer) clearTimeout(this.timer)
    this.timerDue = due
    this.timer = setTimeout(() => this.drain(), Math.max(0, due - this.now()))
    // Timers never keep the host process alive on their own.
    this.timer.unref()
  }

  /** The entry due first of the two lanes, without removing it. */
  private next(): Entry<T> | undefined {
    const a = this.inOrder.peek()
    const b = this.early.peek()
    if (!a) return b
    if (!b) return a
    return b.due < a.due ? b : a
  }

  private drain(): void {
    this.timer = null
    this.timerDue = Number.POSITIVE_INFINITY
    const now = this.now()
    for (let next = this.next(); next && next.due <= now; next = this.next()) {
      if (next === this.early.peek()) this.early.pop()
      else this.inOrder.shift()
      this.fire(next.item, next.due)
    }
    const head = this.next()
    if (head) this.arm(head.due)
  }
}
