import { type BalanceReporter, createBalanceHookCore, type Logger } from '@prepaid-balances/core'
import type { Request, RequestHandler, Response } from 'express'
import type { WaitUntil } from './express-types.js'

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
const earlyId = Symbol('prepaid-balances.installationId')
type HookedResponse = Response & { [earlyId]?: string }

export function balanceHook(options: BalanceHookOptions): RequestHandler {
  const hook = createBalanceHookCore(options, '(req, res)')
  const { reporter, source } = hook
  // Made once: the per-request path allocates only the 'finish' listener.
  const readId = (response: HookedResponse) => {
    const early = response[earlyId]
    if (early !== undefined) return early
    const req = response.req
    if (typeof source === 'function') return source(req, response)
    const value = req.params[source]
    return typeof value === 'string' ? value : undefined
  }
  const pathOf = (response: Response) => response.req.originalUrl.split('?')[0] ?? ''
  const { waitUntil } = options
  const keepAlive = waitUntil && ((report: () => Promise<void>) => waitUntil(report()))

  return (req, res: HookedResponse, next) => {
    req.balances = reporter
    res.locals.balances = reporter
    // By the time the response has finished, Express has replaced req.params with the answering
    // route's. A param the hook's own mount path has is read now; otherwise the two views are
    // merged at the end (copying them on every request cost ~1.5 µs).
    const early = typeof source === 'string' ? req.params[source] : undefined
    if (typeof early === 'string') res[earlyId] = early
    const params = early === undefined ? req.params : null
    // `on`, not `once`: 'finish' fires once, and the once-wrapper costs an allocation a request.
    res.on('finish', () => {
      if (params) req.params = { ...params, ...req.params }
      if (hook.notifyAfter(res.statusCode, res, readId, pathOf) && keepAlive) {
        hook.keepReportAlive(res, keepAlive, pathOf)
      }
    })
    next()
  }
}
