import { isPrepaidBalancesError } from '../errors.js'
import {
  errorResponse,
  HttpError,
  type PartnerApiResponse,
  payloadTooLarge,
  unauthorized,
} from './http-response.js'
import { deleteInstallation, upsertInstallation } from './installation-routes.js'
import { createKeyedLock } from './keyed-lock.js'
import { installationStatus, reportBalances } from './operator-routes.js'
import { resolvePartnerApiOptions } from './partner-api-options.js'
import type { PartnerApi, PartnerApiOptions, PartnerApiRouteName } from './partner-api-types.js'
import { provisionPurchase } from './provision-route.js'
import { readJsonBody, requireJsonContentType } from './request-body.js'
import { parseInstallationId, type RouteContext } from './route-context.js'
import { matchRoute } from './route-table.js'
import { createVercelOidcVerifier, type VercelIdentity } from './verify-vercel-oidc.js'

/**
 * The Partner API Vercel calls (Upsert/Delete Installation, Provision Purchase) plus the cron and
 * status routes, independent of any web framework. Adapters (`@prepaid-balances/hono`,
 * `@prepaid-balances/express`) only translate requests and responses; use this directly to
 * support another framework.
 *
 * @example
 * const api = createPartnerApi({
 *   reporter,
 *   clientId: process.env.INTEGRATION_CLIENT_ID!,
 *   cronSecret: process.env.CRON_SECRET,
 *   onPurchase: ({ installationId, invoice }) => ledger.credit(installationId, toCents(invoice.total)),
 * })
 * const response = await api.handle({ method: 'PUT', path: '/v1/installations/icfg_1', headers, rawBody })
 * // null: not one of our routes; otherwise { status, headers?, body } to send as JSON
 */
export function createPartnerApi(options: PartnerApiOptions): PartnerApi {
  const resolved = resolvePartnerApiOptions(options)
  const { reporter, logger } = resolved
  const context: RouteContext = { options: resolved, reporter, invoiceLock: createKeyedLock() }
  const verifier = createVercelOidcVerifier(resolved)
  if (options.onPurchase && !options.processedInvoices) {
    logger.warn(
      'Provision Purchase remembers credited invoices in memory only: after a restart, a retried ' +
        'purchase would be credited again. Pass `processedInvoices` backed by your database.',
    )
  }

  const enabled = (name: PartnerApiRouteName) =>
    name === 'provisionPurchase'
      ? resolved.onPurchase !== undefined
      : name === 'reportBalances' || name === 'installationStatus'
        ? resolved.cronSecret !== undefined
        : true

  async function authenticate(
    headers: Record<string, string | undefined>,
    rawInstallationId: string,
  ): Promise<VercelIdentity> {
    const installationId = parseInstallationId(rawInstallationId)
    let identity: VercelIdentity
    try {
      identity = await verifier.verify(headers.authorization, headers['x-vercel-auth'])
    } catch (error) {
      if (isPrepaidBalancesError(error, 'ERR_INVALID_CREDENTIALS')) {
        logger.warn('Partner API call refused (401)', { installationId, reason: error.message })
        throw unauthorized()
      }
      logger.error('Could not verify a Partner API call', {
        installationId,
        reason: error instanceof Error ? error.message : String(error),
      })
      throw new HttpError(503, 'service_unavailable', 'Could not verify the token now; retry later')
    }
    if (identity.installation_id !== null && identity.installation_id !== installationId) {
      logger.warn('Partner API call refused (403): token is for another installation', {
        installationId,
      })
      throw new HttpError(403, 'forbidden', 'The token was not issued for this installation')
    }
    return identity
  }

  function toResponse(error: unknown): PartnerApiResponse {
    if (error instanceof HttpError) return errorResponse(error)
    if (isPrepaidBalancesError(error, 'ERR_REPORTER_CLOSED')) {
      return errorResponse(new HttpError(503, 'service_unavailable', 'Shutting down; retry later'))
    }
    logger.error('Partner API route failed', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      ...(isPrepaidBalancesError(error) ? { code: error.code } : {}),
      // Partner callbacks fail here too; their stack is what points at the bug.
      ...(error instanceof Error && !isPrepaidBalancesError(error) ? { stack: error.stack } : {}),
    })
    return errorResponse(new HttpError(500, 'internal_server_error', 'Internal error'))
  }

  const api: PartnerApi = {
    reporter,
    maxBodyBytes: resolved.maxBodyBytes,
    enabled,
    match: (method, path) => matchRoute(method, path, enabled),
    authenticate,
    requireJsonContentType,
    upsertInstallation: (input) => upsertInstallation(context, input),
    deleteInstallation: (input) => deleteInstallation(context, input),
    provisionPurchase: (input) => provisionPurchase(context, input),
    reportBalances: (input) => reportBalances(context, input),
    installationStatus: (input) => installationStatus(context, input),
    toResponse,

    async handle(request) {
      const route = api.match(request.method, request.path)
      if (!route) return null
      try {
        if (route.name === 'reportBalances') return await api.reportBalances(request)
        const installationId = route.installationId ?? ''
        if (route.name === 'installationStatus') {
          return await api.installationStatus({ ...request, installationId })
        }
        // Same order as the Hono adapter's middleware chain: size, path id, token, content type, body.
        if (
          request.rawBody !== undefined &&
          Buffer.byteLength(request.rawBody, 'utf8') > api.maxBodyBytes
        ) {
          throw payloadTooLarge(api.maxBodyBytes)
        }
        const identity = await authenticate(request.headers, installationId)
        if (route.name !== 'deleteInstallation') requireJsonContentType(request.headers)
        const body = readJsonBody(request, api.maxBodyBytes)
        return await api[route.name]({ installationId, identity, body })
      } catch (error) {
        return toResponse(error)
      }
    },
  }
  return api
}
