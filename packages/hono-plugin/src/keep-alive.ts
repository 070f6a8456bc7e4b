import type { Logger } from '@prepaid-balances/core'
import type { Context } from 'hono'

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
): void {
  let hand = waitUntil
  if (!hand) {
    try {
      const executionCtx = c.executionCtx
      hand = (promise) => executionCtx.waitUntil(promise)
    } catch {
      return
    }
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
