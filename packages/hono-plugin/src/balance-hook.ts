import { type BalanceReporter, createBalanceHookCore, type Logger } from '@prepaid-balances/core'
import type { Context, Env, Handler, Input } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { HandlerResponse } from 'hono/types'
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

type HookContext = Context<PrepaidBalancesEnv>

/**
 * What `balanceHook` and `withBalanceHook` share: options checked once, and `after(c, status)`,
 * which notifies on a 2xx and hands the report to a serverless keep-alive. Functions are made
 * once here, so the per-request path allocates no closures (measured in bench/ hook-overhead).
 */
function createHonoHook(options: BalanceHookOptions) {
  const hook = createBalanceHookCore(options, '(c)')
  const { reporter, source, logger } = hook
  const readId =
    typeof source === 'function'
      ? source
      : (c: HookContext) => c.req.param(source) as string | undefined
  const pathOf = (c: HookContext) => c.req.path
  const probe = createExecutionCtxProbe()
  const after = (c: HookContext, status: number) => {
    if (!hook.notifyAfter(status, c, readId, pathOf)) return
    if (!mayKeepAlive(options.waitUntil, probe)) return // Node: the reporter's timers send it
    hook.keepReportAlive(
      c,
      (report) => keepAlive(c, report, options.waitUntil, logger, probe),
      pathOf,
    )
  }
  return { reporter, after }
}

/**
 * After your handler answered with a 2xx, tells the reporter that the installation's balance
 * changed (`notify`, which coalesces and never blocks). It never delays or fails the response:
 * its errors are logged. Handlers also get the reporter as `c.var.balances`.
 *
 * A middleware costs Hono its single-handler fast path; `withBalanceHook(options, handler)`
 * wraps a route's handler instead and keeps it (see bench/ hook-overhead).
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
  const { reporter, after } = createHonoHook(options)
  return createMiddleware<PrepaidBalancesEnv>(async (c, next) => {
    c.set('balances', reporter)
    await next()
    after(c, c.res.status)
  })
}

/**
 * The route-handler form of `balanceHook`, with the same options and rules: once `handler`
 * answered with a 2xx, the installation is notified; errors of the hook are logged, never
 * thrown; handlers get the reporter as `c.var.balances`. A route whose only handler is the
 * wrapped one keeps Hono's single-handler fast path (no `compose`, no extra async step), which
 * a middleware loses. A handler that throws is not reported (Hono's error handler answers).
 *
 * TypeScript cannot infer the route's params through the wrapper: `c.req.param(name)` is
 * `string | undefined`, as in any handler written apart from its route, unless the path is
 * given as a type argument (`withBalanceHook<PrepaidBalancesEnv, '/usage/:installationId'>`).
 *
 * @example
 * const app = new Hono<PrepaidBalancesEnv>()
 * const hooked = { reporter, installationId: 'installationId' }
 * app.post('/api/installations/:installationId/usage', withBalanceHook(hooked, async (c) => {
 *   await ledger.spend(c.req.param('installationId'), 5) // reported after this 2xx
 *   return c.json({ ok: true })
 * }))
 */
export function withBalanceHook<
  E extends Env = PrepaidBalancesEnv,
  P extends string = string,
  I extends Input = Input,
  // biome-ignore lint/suspicious/noExplicitAny: Hono's own Handler default
  R extends HandlerResponse<any> = HandlerResponse<any>,
>(options: BalanceHookOptions, handler: Handler<E, P, I, R>): Handler<E, P, I, R> {
  const { reporter, after } = createHonoHook(options)
  /** The status the handler answered with, or none when it answered nothing. */
  const settle = (c: HookContext, answer: unknown) => {
    if (answer instanceof Response) after(c, answer.status)
    else if (c.finalized) after(c, c.res.status) // answered through c.res, returned nothing
  }
  return (c, next) => {
    const hookContext = c as unknown as HookContext
    hookContext.set('balances', reporter)
    const answer = handler(c, next)
    // No `await` for a handler that answers synchronously: no promise, no extra turn.
    if (answer instanceof Promise) {
      return answer.then((resolved) => {
        settle(hookContext, resolved)
        return resolved
      }) as R
    }
    settle(hookContext, answer)
    return answer
  }
}
