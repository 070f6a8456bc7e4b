import {
  type BalanceReporter,
  consoleLogger,
  type Logger,
  PrepaidBalancesError,
} from '@prepaid-balances/core'
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
  if (typeof options?.reporter?.notify !== 'function') {
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      'balanceHook: option "reporter" must be the reporter returned by createBalanceReporter()',
    )
  }
  const { reporter, waitUntil, installationId: source } = options
  if (typeof source !== 'function' && (typeof source !== 'string' || source === '')) {
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      'balanceHook: option "installationId" must be a route param name or a function (req, res) => installation id | undefined',
    )
  }
  const readId = (req: Request, res: Response) => {
    if (typeof source === 'function') return source(req, res)
    const value = req.params[source]
    return typeof value === 'string' ? value : undefined
  }
  const logger = options.logger ?? consoleLogger
  const fail = (req: Request, error: unknown) =>
    logger.error('balanceHook: could not notify the reporter', {
      path: req.originalUrl.split('?')[0],
      error: error instanceof Error ? error.message : String(error),
    })

  return (req, res, next) => {
    req.balances = reporter
    res.locals.balances = reporter
    // Params as this middleware saw them: Express rewrites req.params while routing on.
    const params = { ...req.params }
    res.once('finish', () => {
      if (res.statusCode < 200 || res.statusCode > 299) return
      try {
        // The response is over, so nothing else reads req.params: merge in the hook's own view.
        req.params = { ...params, ...req.params }
        const installationId = readId(req, res)
        if (!installationId) return
        reporter.notify(installationId)
        waitUntil?.(reporter.flush().catch((error: unknown) => fail(req, error)))
      } catch (error) {
        fail(req, error)
      }
    })
    next()
  }
}
