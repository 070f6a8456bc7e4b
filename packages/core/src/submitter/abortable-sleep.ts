import type { AbortSignalLike } from './submitter-types.js'

/** True if any of the signals has aborted. */
export function anyAborted(signals: readonly AbortSignalLike[]): boolean {
  return signals.some(isAborted)
}

const isAborted = (signal: AbortSignalLike) => signal.aborted

/**
 * Waits `ms`, or less if any signal aborts. Resolves `true` when the full wait elapsed and
 * `false` when it was cut short; never rejects, so callers branch instead of catching.
 * Listeners are removed on both paths: a long-lived signal (the client's close signal) must
 * not collect one listener per retry.
 */
export function abortableSleep(
  ms: number,
  signals: ReadonlyArray<AbortSignalLike | undefined>,
): Promise<boolean> {
  const active = signals.filter((signal): signal is AbortSignalLike => signal !== undefined)
  if (anyAborted(active)) return Promise.resolve(false)
  if (ms <= 0) return Promise.resolve(true)
  return new Promise((resolve) => {
    const finish = (completed: boolean) => {
      clearTimeout(timer)
      for (const signal of active) signal.removeEventListener('abort', onAbort)
      resolve(completed)
    }
    const onAbort = () => finish(false)
    const timer = setTimeout(() => finish(true), ms)
    for (const signal of active) signal.addEventListener('abort', onAbort, { once: true })
  })
}
