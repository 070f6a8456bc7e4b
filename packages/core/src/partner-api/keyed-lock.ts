/**
 * Runs tasks that share a key one after another, tasks with different keys in parallel. Used so
 * two concurrent Provision Purchase calls for one invoice cannot both pass the "already
 * credited?" check before either records the invoice.
 */
export interface KeyedLock {
  run<T>(key: string, task: () => Promise<T>): Promise<T>
  /** Keys with a task running or waiting (for tests and leak checks). */
  readonly size: number
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>()
  return {
    run(key, task) {
      const previous = tails.get(key) ?? Promise.resolve()
      // A failed predecessor must not block its successors, hence the catch.
      const result = previous.catch(() => {}).then(task)
      const tail = result.catch(() => {})
      tails.set(key, tail)
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key)
      })
      return result
    },
    get size() {
      return tails.size
    },
  }
}
