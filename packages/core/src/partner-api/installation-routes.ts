import { isPrepaidBalancesError } from '../errors.js'
import {
  deleteInstallationBodySchema,
  upsertInstallationBodySchema,
} from '../wire/partner-api-schemas.js'
import { badRequest, jsonResponse, type PartnerApiResponse } from './http-response.js'
import type { InstallResult, RouteInput } from './partner-api-types.js'
import { parseBody, parseInstallationId, type RouteContext } from './route-context.js'

/**
 * Upsert Installation: store the (new) token, let the partner run their own installation logic,
 * then schedule a first balance report. The report is scheduled after `onInstall` so that the
 * partner's ledger entry exists by the time `getBalances` is asked for it.
 */
export async function upsertInstallation(
  { options, reporter }: RouteContext,
  input: RouteInput,
): Promise<PartnerApiResponse> {
  const installationId = parseInstallationId(input.installationId)
  const { credentials, ...installation } = parseBody(upsertInstallationBodySchema, input.body)
  try {
    await reporter.saveInstallation(installationId, {
      accessToken: credentials.access_token,
      tokenType: credentials.token_type,
    })
  } catch (error) {
    if (isPrepaidBalancesError(error, 'ERR_INVALID_CREDENTIALS')) {
      // The reporter's message describes the shape problem and never contains the token.
      throw badRequest('The credentials are invalid', [
        { path: 'credentials', message: error.message },
      ])
    }
    throw error
  }
  const result = await options.onInstall?.({
    installationId,
    installation,
    identity: input.identity,
  })
  reporter.notify(installationId)
  return { ...jsonResponse(installResponse(result)), afterResponse: () => reporter.flush() }
}

function installResponse(result: unknown): InstallResult {
  if (typeof result !== 'object' || result === null) return {}
  const { billingPlan, notification } = result as InstallResult
  return {
    ...(billingPlan === undefined ? {} : { billingPlan }),
    ...(notification === undefined ? {} : { notification }),
  }
}

/** Delete Installation: stop reporting and forget the token (unless kept), then the partner's hook. */
export async function deleteInstallation(
  { options, reporter }: RouteContext,
  input: RouteInput,
): Promise<PartnerApiResponse> {
  const installationId = parseInstallationId(input.installationId)
  const body = parseBody(deleteInstallationBodySchema, input.body ?? {})
  // Deleting an unknown installation is not an error: Vercel may retry a delete that succeeded.
  if (!options.keepTokenOnDelete) await reporter.deleteInstallation(installationId)
  const result = await options.onDelete?.({ installationId, body, identity: input.identity })
  const finalized = typeof result === 'object' && result !== null && result.finalized === true
  return jsonResponse(finalized ? { finalized: true } : {})
}
