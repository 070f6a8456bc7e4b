import type { Logger } from '@prepaid-balances/core'
import type { Context } from 'hono'

/**
 * Remembers, for one hot middleware, that requests come without an ExecutionContext: on Node
 * they never have one, and even a cheap probe of Hono's throwing getter costs ~2 µs a request.
 * Workers-like runtimes give every request one, so they never reach the give-up count.
 */
export interface ExecutionCtxProbe {
  misses: number
}

const PROBE_GIVE_UP = 64

export const createExecutionCtxProbe = (): ExecutionCtxProbe => ({ misses: 0 })

/** Requests are known to come without an ExecutionContext: stop probing for one. */
const gaveUp = (probe: ExecutionCtxProbe) => probe.misses >= PROBE_GIVE_UP

/** False once requests are known to come without an ExecutionContext and none was passed. */
export const mayKeepAlive = (waitUntil: WaitUntil | undefined, probe: ExecutionCtxProbe) =>
  waitUntil !== undefined || !gaveUp(probe)

/** Hands a promise to a serverless runtime so it is not frozen before the work finishes. */
export type WaitUntil = (promise: Promise<unknown>) => void

/**
 * Runs `work` after the response when the runtime would otherwise stop us: through the
 * `waitUntil` the partner passed (e.g. from `@vercel/functions`), else `c.executionCtx.waitUntil`
 * (Cloudflare Workers, Vercel Edge). On Node there is neither — the getter even throws — and the
 * reporter's own timers send the report, so nothing is started here.
 */
export function keepAlive(
  c: Context,
  work: () => Promise<unknown>,
  waitUntil: WaitUntil | undefined,
  logger: Logger,
  probe?: ExecutionCtxProbe,
): void {
  let hand = waitUntil
  if (!hand) {
    if (probe && gaveUp(probe)) return
    const executionCtx = executionCtxOf(c)
    if (probe) probe.misses = executionCtx ? 0 : probe.misses + 1
    if (!executionCtx) return
    hand = (promise) => executionCtx.waitUntil(promise)
  }
  const guarded = Promise.resolve()
    .then(work)
    .catch((error: unknown) => {
      logger.error('Background balance report failed', {
        error: error instanceof Error ? error.message : String(error),
      })
    })
  try {
    hand(guarded)
  } catch (error) {
    logger.error('waitUntil() threw; the report is sent by the reporter instead', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
}

/**
 * `c.executionCtx`, or undefined where the runtime has none. Hono's getter throws then (on Node,
 * every request), and capturing that exception's stack trace cost ~10 µs per request (measured
 * with bench/cases/hook-overhead.mjs); without a stack trace the throw is nearly free.
 */
function executionCtxOf(c: Context): Context['executionCtx'] | undefined {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return c.executionCtx
  } catch {
    return undefined
  } finally {
    Error.stackTraceLimit = limit
  }
}
