import { zValidator } from '@hono/zod-validator'
import {
  badRequest,
  consoleLogger,
  createPartnerApi,
  HttpError,
  invalidBody,
  type PartnerApiOptions,
  type PartnerApiResponse,
  parseJsonText,
  payloadTooLarge,
  provisionPurchaseBodySchema,
  upsertInstallationBodySchema,
  type VercelIdentity,
} from '@prepaid-balances/core'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { PrepaidBalancesEnv } from './env.js'
import { keepAlive, type WaitUntil } from './keep-alive.js'

export interface PrepaidBalancesOptions extends PartnerApiOptions {
  /**
   * Keeps the first report after an install or purchase alive on serverless runtimes, e.g.
   * `waitUntil` from `@vercel/functions`. Default: `c.executionCtx.waitUntil` when there is one.
   */
  waitUntil?: WaitUntil
}

type RoutesEnv = { Variables: { vercelIdentity: VercelIdentity } }

/**
 * The Vercel Marketplace routes as a Hono sub-app: Upsert/Delete Installation, Provision Purchase
 * (with `onPurchase`), and the cron and status routes (with `cronSecret`). Mount it at the root or
 * under any base path; requests for other paths pass through to your routes untouched.
 *
 * @example
 * const app = new Hono<PrepaidBalancesEnv>()
 * app.route('/', prepaidBalances({
 *   reporter,
 *   clientId: process.env.INTEGRATION_CLIENT_ID!,
 *   cronSecret: process.env.CRON_SECRET,
 *   onPurchase: ({ installationId, invoice }) => ledger.credit(installationId, invoice.total),
 * }))
 */
export function prepaidBalances(options: PrepaidBalancesOptions): Hono<PrepaidBalancesEnv> {
  const { waitUntil, ...apiOptions } = options
  const api = createPartnerApi(apiOptions)
  const logger = apiOptions.logger ?? consoleLogger
  const app = new Hono<RoutesEnv>()

  const send = (c: Context, response: PartnerApiResponse) => {
    const { afterResponse } = response
    if (afterResponse) keepAlive(c, afterResponse, waitUntil, logger)
    return c.json(response.body, response.status as ContentfulStatusCode, response.headers)
  }
  // Middleware is attached per route, never with `use('*')`: that would run it on every route of
  // the partner's app once the sub-app is mounted at '/'.
  const limit = bodyLimit({
    maxSize: api.maxBodyBytes,
    onError: () => {
      throw payloadTooLarge(api.maxBodyBytes)
    },
  })
  const authenticate = createMiddleware<RoutesEnv>(async (c, next) => {
    c.set(
      'vercelIdentity',
      await api.authenticate(c.req.header(), c.req.param('installationId') ?? ''),
    )
    await next()
  })
  const requireJson = createMiddleware(async (c, next) => {
    api.requireJsonContentType(c.req.header())
    await next()
  })
  const validationHook = (result: { success: boolean; error?: unknown }) => {
    if (!result.success) throw invalidBody(result.error as Parameters<typeof invalidBody>[0])
  }
  const input = (c: Context<RoutesEnv>, body: unknown) => ({
    installationId: c.req.param('installationId') ?? '',
    identity: c.var.vercelIdentity,
    body,
  })

  app.put(
    '/v1/installations/:installationId',
    limit,
    authenticate,
    requireJson,
    zValidator('json', upsertInstallationBodySchema, validationHook),
    async (c) => send(c, await api.upsertInstallation(input(c, c.req.valid('json')))),
  )
  // Delete's body is optional, so an empty one must not be "malformed JSON" (Hono's validator says so).
  app.delete('/v1/installations/:installationId', limit, authenticate, async (c) =>
    send(c, await api.deleteInstallation(input(c, parseJsonText(await c.req.text()) ?? {}))),
  )
  if (api.enabled('provisionPurchase')) {
    app.post(
      '/v1/installations/:installationId/billing/provision',
      limit,
      authenticate,
      requireJson,
      zValidator('json', provisionPurchaseBodySchema, validationHook),
      async (c) => send(c, await api.provisionPurchase(input(c, c.req.valid('json')))),
    )
  }
  if (api.enabled('reportBalances')) {
    const report = async (c: Context) =>
      send(c, await api.reportBalances({ headers: c.req.header(), query: c.req.query() }))
    app.get('/balances/report', report)
    app.post('/balances/report', report)
    app.get('/balances/installations/:installationId', async (c) =>
      send(
        c,
        await api.installationStatus({
          headers: c.req.header(),
          installationId: c.req.param('installationId'),
        }),
      ),
    )
  }

  app.onError((error, c) => {
    // Hono's validator throws its own 400 for unparsable JSON; give it our shape.
    return send(c, api.toResponse(error instanceof HTTPException ? fromHono(error) : error))
  })
  return app as unknown as Hono<PrepaidBalancesEnv>
}

/** Hono's validator throws its own 400 for unparsable JSON; answer it in our shape. */
function fromHono(error: HTTPException): HttpError {
  if (error.status === 400) {
    return badRequest('The request body is not valid JSON', [
      { path: '(body)', message: error.message },
    ])
  }
  return new HttpError(error.status, 'error', error.message)
}
