// A partner backend selling prepaid "Tokens" (1 cent = 1 token) on Express 5. The logic shared
// with the Hono example lives in @prepaid-balances/example-backend; this file is the Express glue.
import {
  createPartnerBackend,
  loadConfigOrExit,
  mayBeJson,
  notFound,
  notJson,
  runUntilSignal,
  USAGE_MAX_BODY_BYTES,
} from '@prepaid-balances/example-backend'
import { prepaidBalancesRouter, withBalanceHook } from '@prepaid-balances/express'
import express from 'express'

const config = loadConfigOrExit('express-app')
const backend = createPartnerBackend(config)
const app = express()
app.disable('x-powered-by')

/**
 * @param {import('express').Response} res
 * @param {{ status: number, body: unknown, headers?: Record<string, string> }} answer
 */
const send = (res, { status, body, headers }) => {
  res
    .status(status)
    .set(headers ?? {})
    .json(body)
}

app.get('/healthz', async (_req, res) => send(res, await backend.health()))

// 1. The routes Vercel calls (Upsert/Delete Installation, Provision Purchase) and the cron and
//    status routes, mounted at the root. The router reads its own bodies: no body parser needed.
app.use(prepaidBalancesRouter(backend.routeOptions))

// 2. The partner's own API. After the wrapped handler answered 2xx, the hook tells the reporter
//    the balance changed; the report goes to Vercel in the background, never delaying the
//    response. Requests the checks before it refuse are never reported.
const hooked = { reporter: backend.reporter, installationId: 'installationId' }
/** @type {import('express').RequestHandler} */
const jsonOnly = (req, _res, next) =>
  next(mayBeJson(req.headers['content-type']) ? undefined : notJson())

app.post(
  '/api/installations/:installationId/usage',
  jsonOnly,
  // `type: () => true`: jsonOnly above already refused explicit non-JSON types.
  express.json({ limit: USAGE_MAX_BODY_BYTES, type: () => true }),
  withBalanceHook(hooked, async (req, res) =>
    send(res, await backend.spendTokens(req.params.installationId, req.body)),
  ),
)

app.get('/api/installations/:installationId/balance', async (req, res) =>
  send(res, await backend.readBalance(req.params.installationId)),
)

app.use((req, res) => send(res, backend.errorAnswer(notFound(`${req.method} ${req.path}`))))
/** @type {import('express').ErrorRequestHandler} */
const onError = (error, _req, res, next) => {
  if (res.headersSent) return next(error)
  send(res, backend.errorAnswer(error))
}
app.use(onError)

const server = config.host ? app.listen(config.port, config.host) : app.listen(config.port)
runUntilSignal({ appName: 'express-app', server, backend, config })
