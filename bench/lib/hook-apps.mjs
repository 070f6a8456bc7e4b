// The same usage route in Hono and in Express, with or without the balance hook: the only
// difference between the A and B sides of the hook-overhead benchmark.
import { balanceHook as expressBalanceHook } from '@prepaid-balances/express'
import { balanceHook as honoBalanceHook } from '@prepaid-balances/hono'
import express from 'express'
import { Hono } from 'hono'

export const USAGE_ROUTE = '/api/installations/:installationId/usage'

export function honoApp({ reporter, hook }) {
  const app = new Hono()
  if (hook) {
    app.use(
      '/api/installations/:installationId/*',
      honoBalanceHook({ reporter, installationId: 'installationId' }),
    )
  }
  app.post(USAGE_ROUTE, (c) => c.json({ ok: true }))
  return app
}

export function expressApp({ reporter, hook }) {
  const app = express()
  app.disable('x-powered-by')
  if (hook) {
    app.use(
      '/api/installations/:installationId',
      expressBalanceHook({ reporter, installationId: 'installationId' }),
    )
  }
  app.post(USAGE_ROUTE, (_req, res) => {
    res.json({ ok: true })
  })
  return app
}

export function usagePaths(ids) {
  return ids.map((id) => `/api/installations/${id}/usage`)
}
