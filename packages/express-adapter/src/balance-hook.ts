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
export function balanceHook(options: BalanceHookOptions): RequestHandler {
  const hook = createBalanceHookCore(options, '(req, res)')
  const { reporter, source } = hook
  const readId = (req: Request, res: Response) => {
    if (typeof source === 'function') return source(req, res)
    const value = req.params[source]
    return typeof value === 'string' ? value : undefined
  }

  return (req, res, next) => {
    req.balances = reporter
    res.locals.balances = reporter
    // Read the id now when this middleware's own params have it: by the time the response has
    // finished, Express has replaced req.params with the answering route's (copying and merging
    // the two views on every request profiled at ~1.5 µs).
    const early = typeof source === 'string' ? req.params[source] : undefined
    const params = early === undefined ? req.params : null
    // `on`, not `once`: 'finish' fires once, and the once-wrapper costs an allocation a request.
    res.on('finish', () => {
      hook.afterResponse(
        res.statusCode,
        () => {
          if (typeof early === 'string') return early
          // The response is over, so nothing else reads req.params: merge in the hook's own view.
          if (params) req.params = { ...params, ...req.params }
          return readId(req, res)
        },
        (report) => options.waitUntil?.(report()),
        () => req.originalUrl.split('?')[0] ?? '',
      )
    })
    next()
  }
}
