// The same usage route in Hono and in Express, with or without the balance hook: the only
// difference between the A and B sides of the hook-overhead benchmark. Every side answers with
// the same handler (`respond`); only how the hook (or a no-op stand-in) is attached differs.
import {
  balanceHook as expressBalanceHook,
  withBalanceHook as expressWithBalanceHook,
} from '@prepaid-balances/express'
import {
  balanceHook as honoBalanceHook,
  withBalanceHook as honoWithBalanceHook,
} from '@prepaid-balances/hono'
import express from 'express'
import { Hono } from 'hono'

export const USAGE_ROUTE = '/api/installations/:installationId/usage'
const HONO_MOUNT = '/api/installations/:installationId/*'

/**
 * `hook`: none (`false`), `'middleware'` (`app.use(path, balanceHook(…))`) or `'wrapper'`
 * (`app.post(path, withBalanceHook(…, respond))`, which keeps Hono's single-handler fast path).
 * `noop` adds a middleware that only awaits next(): Hono's own cost of one middleware.
 */
export function honoApp({ reporter, hook, noop = false }) {
  const app = new Hono()
  const respond = (c) => c.json({ ok: true })
  const options = { reporter, installationId: 'installationId' }
  if (noop) app.use(HONO_MOUNT, (_c, next) => next())
  if (hook === 'middleware' || hook === true) app.use(HONO_MOUNT, honoBalanceHook(options))
  app.post(USAGE_ROUTE, hook === 'wrapper' ? honoWithBalanceHook(options, respond) : respond)
  return app
}

/**
 * `mount: 'route'` puts the hook in the route's own handler chain, as the balanceHook middleware
 * (`app.post(path, hook, respond)`); `mount: 'wrapper'` wraps the handler instead
 * (`app.post(path, withBalanceHook(…, respond))`, no extra layer); `mount: 'use'` mounts it with
 * `app.use(path, hook)`, which adds a router layer that every request walks (Express's own
 * cost, shown beside it with a middleware that only calls next()).
 */
export function expressApp({ reporter, hook, mount = 'route', noop = false }) {
  const app = express()
  app.disable('x-powered-by')
  const respond = (_req, res) => {
    res.json({ ok: true })
  }
  const options = { reporter, installationId: 'installationId' }
  if (hook && mount === 'wrapper') {
    app.post(USAGE_ROUTE, expressWithBalanceHook(options, respond))
    return app
  }
  const middleware = noop ? (_req, _res, next) => next() : hook ? expressBalanceHook(options) : null
  if (middleware && mount === 'use') app.use('/api/installations/:installationId', middleware)
  if (middleware && mount === 'route') app.post(USAGE_ROUTE, middleware, respond)
  else app.post(USAGE_ROUTE, respond)
  return app
}

export function usagePaths(ids) {
  return ids.map((id) => `/api/installations/${id}/usage`)
}
