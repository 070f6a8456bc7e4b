// The same usage route in Hono and in Express, with or without the balance hook: the only
// difference between the A and B sides of the hook-overhead benchmark.
import { balanceHook as expressBalanceHook } from '@prepaid-balances/express'
import { balanceHook as honoBalanceHook } from '@prepaid-balances/hono'
import express from 'express'
import { Hono } from 'hono'

export const USAGE_ROUTE = '/api/installations/:installationId/usage'

export function honoApp({ reporter, hook, noop = false }) {
  const app = new Hono()
  // Hono's own cost of one middleware, for comparison: it only awaits next().
  if (noop) app.use('/api/installations/:installationId/*', (_c, next) => next())
  if (hook) {
    app.use(
      '/api/installations/:installationId/*',
      honoBalanceHook({ reporter, installationId: 'installationId' }),
    )
  }
  app.post(USAGE_ROUTE, (c) => c.json({ ok: true }))
  return app
}

/**
 * `mount: 'route'` puts the hook in the route's own handler chain, as examples/express-app does;
 * `mount: 'use'` mounts it with `app.use(path, hook)`, which adds a router layer that every
 * request walks (Express's own cost, shown beside it with a middleware that only calls next()).
 */
export function expressApp({ reporter, hook, mount = 'route', noop = false }) {
  const app = express()
  app.disable('x-powered-by')
  const respond = (_req, res) => {
    res.json({ ok: true })
  }
  const middleware = noop
    ? (_req, _res, next) => next()
    : hook
      ? expressBalanceHook({ reporter, installationId: 'installationId' })
      : null
  if (middleware && mount === 'use') app.use('/api/installations/:installationId', middleware)
  if (middleware && mount === 'route') app.post(USAGE_ROUTE, middleware, respond)
  else app.post(USAGE_ROUTE, respond)
  return app
}

export function usagePaths(ids) {
  return ids.map((id) => `/api/installations/${id}/usage`)
}
