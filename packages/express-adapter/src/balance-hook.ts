import { type BalanceReporter, createBalanceHookCore, type Logger } from '@prepaid-balances/core'
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express'
import type { WaitUntil } from './express-types.js'
import { exposeReporterOnRequest } from './request-balances.js'

export interface BalanceHookOptions {
  reporter: BalanceReporter
  /**
   * The installation whose balance the request may have changed: the name of a route param
   * (e.g. `'installationId'`) or a function; nothing is reported when it gives nothing. Read
   * once the response has finished, so `res.locals` set by your handler can be used; `req.params`
   * then holds the params of both the hook's mount path and the route that answered.
   */
  installationId: string | ((req: Request, res: Response) => string | null | undefined)
  /** Keeps the report alive on serverless runtimes (e.g. `waitUntil` from `@vercel/functions`). */
  waitUntil?: WaitUntil
  /** Where the hook's own errors go (it never fails the response). Default: console. */
  logger?: Logger
}

/** The hook's own view of `req.params`, merged back when the answering route's is different. */
const mountParams = Symbol('prepaid-balances.mountParams')
type HookedResponse = Response & { [mountParams]?: Request['params'] }

/**
 * What `balanceHook` and `withBalanceHook` share: options checked once, and `watch(req, res)`,
 * which gives handlers the reporter and notifies once the response finished with a 2xx.
 */
function createExpressHook(options: BalanceHookOptions) {
  const hook = createBalanceHookCore(options, '(req, res)')
  const { reporter, source } = hook
  const readId = (response: HookedResponse) => {
    const req = response.req
    if (typeof source === 'function') return source(req, response)
    const value = req.params[source]
    return typeof value === 'string' ? value : undefined
  }
  const pathOf = (response: Response) => response.req.originalUrl.split('?')[0] ?? ''
  const { waitUntil } = options
  const keepAlive = waitUntil && ((report: () => Promise<void>) => waitUntil(report()))

  const notify = (
    response: Response,
    read: (response: HookedResponse) => string | null | undefined,
  ) => {
    if (hook.notifyAfter(response.statusCode, response, read, pathOf) && keepAlive) {
      hook.keepReportAlive(response, keepAlive, pathOf)
    }
  }
  /** 'finish' of a request whose id is read now (a function, or a param only the route has). */
  function onFinish(this: HookedResponse) {
    const params = this[mountParams]
    if (params) this.req.params = { ...params, ...this.req.params }
    notify(this, readId)
  }

  /** `mergeLater`: the answering route may see other params than `req.params` holds now. */
  const watch = (req: Request, res: HookedResponse, mergeLater: boolean) => {
    res.locals.balances = reporter
    exposeReporterOnRequest(req, reporter)
    // By the time the response has finished, Express may have replaced req.params with the
    // answering route's. A param seen now is kept; otherwise the two views are merged at the end
    // (copying them on every request cost ~1.5 µs).
    const early = typeof source === 'string' ? req.params[source] : undefined
    // `on`, not `once`: 'finish' fires once, and the once-wrapper costs an allocation a request.
    if (typeof early === 'string') {
      // The id travels in a closure, not in a property added to `res`: adding one to Express's
      // response object profiled at ~2 µs a request (bench/profile-hook-side.mjs), a closure
      // at a few dozen ns.
      res.on('finish', () => notify(res, () => early))
      return
    }
    if (mergeLater) res[mountParams] = req.params
    res.on('finish', onFinish)
  }
  return watch
}

/**
 * When the response finished with a 2xx, tells the reporter that the installation's balance
 * changed (`notify`, which coalesces and never blocks). It never delays or fails the response:
 * its errors are logged. Handlers also get the reporter as `req.balances` and
 * `res.locals.balances`.
 *
 * @example
 * app.use('/api/installations/:installationId', balanceHook({ reporter, installationId: 'installationId' }))
 * // or: installationId: (req, res) => res.locals.installationId
 * app.post('/api/installations/:installationId/usage', async (req, res) => {
 *   await ledger.spend(req.params.installationId, req.body.cents) // the hook reports it
 *   res.json({ ok: true })
 * })
 */
export function balanceHook(options: BalanceHookOptions): RequestHandler {
  const watch = createExpressHook(options)
  return (req, res, next) => {
    watch(req, res, true)
    next()
  }
}

/**
 * Express 5's router passes a handler's rejected promise to `next(err)`; Express 4's drops it,
 * leaving the request hanging and the rejection unhandled. Told apart once, by `app.del`, which
 * Express 5 removed (its migration guide), so `withBalanceHook` on Express 5 is as it was.
 */
const expressForgetsRejections =
  typeof (express.application as { del?: unknown }).del === 'function'

/**
 * The route-handler form of `balanceHook`, with the same options and rules: once the response
 * `handler` started has finished with a 2xx, the installation is notified; errors of the hook
 * are logged, never thrown; the handler gets the reporter as `req.balances` and
 * `res.locals.balances`. It saves the route a layer and a `next()` step. `installationId` as a
 * param name reads the route's own params; a rejection of the handler's promise reaches your error
 * handler (and, answering 5xx, is not reported): on Express 5 the promise is returned to Express,
 * on Express 4, which would drop it, the hook passes the rejection to `next(err)` itself.
 *
 * @example
 * const hooked = { reporter, installationId: 'installationId' }
 * app.post('/api/installations/:installationId/usage', withBalanceHook(hooked, async (req, res) => {
 *   await ledger.spend(req.params.installationId, req.body.cents) // reported after this 2xx
 *   res.json({ ok: true })
 * }))
 */
export function withBalanceHook<
  P = Request['params'],
  // biome-ignore lint/suspicious/noExplicitAny: Express's own default, so req.body stays usable
  ResBody = any,
  // biome-ignore lint/suspicious/noExplicitAny: Express's own default
  ReqBody = any,
  ReqQuery = Request['query'],
  // biome-ignore lint/suspicious/noExplicitAny: Express's own default
  Locals extends Record<string, any> = Record<string, any>,
>(
  options: BalanceHookOptions,
  handler: RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals>,
): RequestHandler<P, ResBody, ReqBody, ReqQuery, Locals> {
  const watch = createExpressHook(options)
  if (expressForgetsRejections) {
    return (req, res, next) => {
      watch(req as unknown as Request, res as unknown as Response, false)
      return forwardRejection(handler(req, res, next), next)
    }
  }
  return (req, res, next) => {
    watch(req as unknown as Request, res as unknown as Response, false)
    return handler(req, res, next)
  }
}

/**
 * What Express 5 does with a handler's result, for Express 4. The promise returned instead never
 * rejects, so a patch such as express-async-errors that also watches it cannot call `next` twice.
 */
function forwardRejection(result: unknown, next: NextFunction): unknown {
  if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') return result
  return (result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
    next(error || new Error('Rejected promise'))
  })
}
