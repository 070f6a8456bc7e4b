import { type BalanceReporter, createBalanceHookCore, type Logger } from '@prepaid-balances/core'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { PrepaidBalancesEnv } from './env.js'
import { createExecutionCtxProbe, keepAlive, mayKeepAlive, type WaitUntil } from './keep-alive.js'

export interface BalanceHookOptions {
  reporter: BalanceReporter
  /**
   * The installation whose balance the request may have changed: the name of a route param
   * (e.g. `'installationId'`) or a function; nothing is reported when it gives nothing.
   */
  installationId: string | ((c: Context<PrepaidBalancesEnv>) => string | null | undefined)
  /**
   * Keeps the report alive on serverless runtimes (e.g. `waitUntil` from `@vercel/functions`).
   * Default: `c.executionCtx.waitUntil` when the runtime has one; nothing on Node.
   */
  waitUntil?: WaitUntil
  /** Where the hook's own errors go (it never fails the response). Default: console. */
  logger?: Logger
}

/**
 * After your handler answered with a 2xx, tells the reporter that the installation's balance
 * changed (`notify`, which coalesces and never blocks). It never delays or fails the response:
 * its errors are logged. Handlers also get the reporter as `c.var.balances`.
 *
 * @example
 * const app = new Hono<PrepaidBalancesEnv>()
 * app.use('/api/installations/:installationId/*', balanceHook({ reporter, installationId: 'installationId' }))
 * // or: installationId: (c) => c.get('installationId')
 * app.post('/api/installations/:installationId/usage', async (c) => {
 *   await ledger.spend(c.req.param('installationId'), 5) // the hook reports the new balance
 *   return c.json({ ok: true })
 * })
 */
export function balanceHook(options: BalanceHookOptions) {
  const hook = createBalanceHookCore(options, '(c)')
  const { reporter, source, logger } = hook
  // Made once: the per-request path allocates no closures (measured in bench/ hook-overhead).
  const readId =
    typeof source === 'function'
      ? source
      : (c: Context<PrepaidBalancesEnv>) => c.req.param(source) as string | undefined
  const pathOf = (c: Context<PrepaidBalancesEnv>) => c.req.path

  const probe = createExecutionCtxProbe()
  return createMiddleware<PrepaidBalancesEnv>(async (c, next) => {
    c.set('balances', reporter)
    await next()
    if (!hook.notifyAfter(c.res.status, c, readId, pathOf)) return
    if (!mayKeepAlive(options.waitUntil, probe)) return // Node: the reporter's timers send it
    hook.keepReportAlive(
      c,
      (report) => keepAlive(c, report, options.waitUntil, logger, probe),
      pathOf,
    )
  })
}
