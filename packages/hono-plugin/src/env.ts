import type { BalanceReporter } from '@prepaid-balances/core'

/**
 * The Hono `Env` of apps that use `balanceHook`: handlers reach the reporter as `c.var.balances`
 * (e.g. `c.var.balances.notify(installationId)` when they know better than the hook).
 *
 * @example
 * const app = new Hono<PrepaidBalancesEnv>()
 * app.use('/api/*', balanceHook({ reporter, installationId: (c) => c.req.param('installationId') }))
 * app.post('/api/refunds/:id', (c) => { c.var.balances.notify(someOtherInstallation); return c.json({}) })
 */
export type PrepaidBalancesEnv = {
  Variables: {
    balances: BalanceReporter
  }
}
