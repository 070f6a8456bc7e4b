import {
  consoleLogger,
  createPartnerApi,
  HttpError,
  type PartnerApiOptions,
  type PartnerApiResponse,
} from '@prepaid-balances/core'
import express, { type Request, type Response, type Router } from 'express'
import type { WaitUntil } from './express-types.js'
import { readBody } from './read-body.js'

export interface PrepaidBalancesRouterOptions extends PartnerApiOptions {
  /**
   * Keeps the first report after an install or purchase alive on serverless runtimes, e.g.
   * `waitUntil` from `@vercel/functions`. Unset on ordinary servers: the reporter sends it.
   */
  waitUntil?: WaitUntil
}

const firstValues = (params: URLSearchParams) => {
  const query: Record<string, string> = {}
  for (const [key, value] of params) query[key] ??= value
  return query
}

const headersOf = (req: Request) => {
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

/**
 * The Vercel Marketplace routes as an Express router: Upsert/Delete Installation, Provision
 * Purchase (with `onPurchase`) and the cron and status routes (with `cronSecret`). Mount it at
 * the root or under any base path; other requests pass through untouched, bodies unread. Works
 * with or without `express.json()` before it. Express 4 and 5 (tested against both).
 *
 * @example
 * const app = express()
 * app.use(prepaidBalancesRouter({
 *   reporter,
 *   clientId: process.env.INTEGRATION_CLIENT_ID!,
 *   cronSecret: process.env.CRON_SECRET,
 *   onPurchase: ({ installationId, invoice }) => ledger.credit(installationId, invoice.total),
 * }))
 */
export function prepaidBalancesRouter(options: PrepaidBalancesRouterOptions): Router {
  const { waitUntil, ...apiOptions } = options
  const api = createPartnerApi(apiOptions)
  const logger = apiOptions.logger ?? consoleLogger
  const router = express.Router()

  const send = (res: Response, response: PartnerApiResponse) => {
    if (response.afterResponse && waitUntil) {
      waitUntil(
        response
          .afterResponse()
          .catch((error: unknown) =>
            logger.error('Background balance report failed', { error: String(error) }),
          ),
      )
    }
    if (response.status === 413) res.set('connection', 'close') // the rest of the body stays unread
    res
      .status(response.status)
      .set(response.headers ?? {})
      .json(response.body)
  }

  router.use(async (req, res, next) => {
    try {
      // originalUrl minus the mount path is the path relative to where the router is mounted.
      const url = new URL(req.originalUrl, 'http://localhost')
      const path = url.pathname.startsWith(req.baseUrl)
        ? url.pathname.slice(req.baseUrl.length) || '/'
        : req.path
      const route = api.match(req.method, path)
      if (!route) return next()
      let body: Awaited<ReturnType<typeof readBody>> = {}
      if (route.hasBody) {
        try {
          body = await readBody(req, api.maxBodyBytes)
        } catch (error) {
          // 413 is ours to answer; a broken or aborted stream goes to Express.
          if (error instanceof HttpError) return send(res, api.toResponse(error))
          throw error
        }
      }
      const response = await api.handle({
        method: req.method,
        path,
        headers: headersOf(req),
        query: firstValues(url.searchParams),
        ...body,
      })
      if (!response) return next()
      send(res, response)
    } catch (error) {
      next(error)
    }
  })
  return router
}
