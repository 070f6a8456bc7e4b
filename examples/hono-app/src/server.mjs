// A partner backend selling prepaid "Tokens" (1 cent = 1 token) on Hono. The logic shared with
// the Express example lives in @prepaid-balances/example-backend; this file is the Hono glue.
import { serve } from '@hono/node-server'
import {
  createPartnerBackend,
  loadConfigOrExit,
  malformedJson,
  mayBeJson,
  notFound,
  notJson,
  runUntilSignal,
  USAGE_MAX_BODY_BYTES,
  usageBodyTooLarge,
} from '@prepaid-balances/example-backend'
import { prepaidBalances, withBalanceHook } from '@prepaid-balances/hono'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'

const config = loadConfigOrExit('hono-app')
const backend = createPartnerBackend(config)

/** @typedef {import('@prepaid-balances/hono').PrepaidBalancesEnv} Env */
/** @type {Hono<Env>} */
const app = new Hono()

/**
 * @param {import('hono').Context} c
 * @param {{ status: number, body: unknown, headers?: Record<string, string> }} answer
 */
const send = (c, { status, body, headers }) =>
  c.json(
    body,
    /** @type {import('hono/utils/http-status').ContentfulStatusCode} */ (status),
    headers,
  )

app.get('/healthz', async (c) => send(c, await backend.health()))

// 1. The routes Vercel calls (Upsert/Delete Installation, Provision Purchase) and the cron and
//    status routes, mounted at the root.
app.route('/', prepaidBalances(backend.routeOptions))

// 2. The partner's own API. After the wrapped handler answered 2xx, the hook tells the reporter
//    the balance changed; the report goes to Vercel in the background, never delaying the
//    response. Requests the checks before it refuse are never reported.
const hooked = { reporter: backend.reporter, installationId: 'installationId' }
const jsonOnly = createMiddleware(async (c, next) => {
  if (!mayBeJson(c.req.header('content-type'))) throw notJson()
  await next()
})
const smallBody = bodyLimit({
  maxSize: USAGE_MAX_BODY_BYTES,
  onError: () => {
    throw usageBodyTooLarge()
  },
})

app.post(
  '/api/installations/:installationId/usage',
  jsonOnly,
  smallBody,
  withBalanceHook(hooked, async (c) => {
    const body = await c.req.json().catch(() => {
      throw malformedJson()
    })
    return send(c, await backend.spendTokens(c.req.param('installationId') ?? '', body))
  }),
)

app.get('/api/installations/:installationId/balance', async (c) =>
  send(c, await backend.readBalance(c.req.param('installationId'))),
)

app.notFound((c) => send(c, backend.errorAnswer(notFound(`${c.req.method} ${c.req.path}`))))
app.onError((error, c) => send(c, backend.errorAnswer(error)))

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host })
runUntilSignal({
  appName: 'hono-app',
  server: /** @type {import('node:http').Server} */ (server),
  backend,
  config,
})
