import { createHash, timingSafeEqual } from 'node:crypto'
import type { InstallationStatus } from '../reporter/reporter-types.js'
import { HttpError, type PartnerApiResponse, unauthorized } from './http-response.js'
import type { OperatorInput } from './partner-api-types.js'
import { parseInstallationId, type RouteContext } from './route-context.js'

const noStore = { 'cache-control': 'no-store' }

/**
 * `Authorization: Bearer <cronSecret>` compared in constant time. Hashing both sides first gives
 * equal-length inputs, so neither the secret's length nor its prefix leaks through timing.
 *
 * @example
 * if (!isCronSecretValid(process.env.CRON_SECRET!, request.headers.get('authorization') ?? undefined)) {
 *   return new Response('unauthorized', { status: 401 })
 * }
 */
export function isCronSecretValid(secret: string, authorization: string | undefined): boolean {
  const match = /^Bearer[ \t]+(.+?)[ \t]*$/i.exec(authorization ?? '')
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest()
  const expected = createHash('sha256').update(secret).digest()
  return timingSafeEqual(given, expected) && match !== null
}

function requireCronSecret({ options }: RouteContext, headers: OperatorInput['headers']): void {
  if (options.cronSecret === undefined) {
    throw new HttpError(404, 'not_found', 'The cron routes are disabled (no cronSecret configured)')
  }
  if (!isCronSecretValid(options.cronSecret, headers.authorization)) throw unauthorized()
}

/**
 * `GET|POST /balances/report`: reports what is due (`?all=1`: everything) and waits for the
 * results, so it also works on serverless runtimes where no background timer survives.
 */
export async function reportBalances(
  context: RouteContext,
  { headers, query }: OperatorInput,
): Promise<PartnerApiResponse> {
  requireCronSecret(context, headers)
  const all = ['1', 'true', 'yes'].includes((query?.all ?? '').toLowerCase())
  const summary = all ? await context.reporter.reportAll() : await context.reporter.reportDue()
  return { status: 200, headers: noStore, body: { mode: all ? 'all' : 'due', ...summary } }
}

/** `GET /balances/installations/:installationId`: operator status, never the token. */
export async function installationStatus(
  context: RouteContext,
  input: OperatorInput & { installationId: string },
): Promise<PartnerApiResponse> {
  requireCronSecret(context, input.headers)
  const installationId = parseInstallationId(input.installationId)
  const status = await context.reporter.getStatus(installationId)
  if (!status) {
    throw new HttpError(404, 'not_found', `Installation ${installationId} is unknown`)
  }
  return { status: 200, headers: noStore, body: publicStatus(status) }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** An explicit allow-list, so a field added to the record later is never exposed by accident. */
export function publicStatus(status: InstallationStatus) {
  return {
    installationId: status.installationId,
    tokenState: status.tokenState,
    tokenType: status.tokenType,
    pending: status.pending,
    pendingSince: iso(status.pendingSince),
    inFlight: status.inFlight,
    lastOutcome: status.lastOutcome,
    lastStatus: status.lastStatus,
    lastAttemptAt: iso(status.lastAttemptAt),
    lastDeliveredAt: iso(status.lastDeliveredAt),
    lastTimestamp: status.lastTimestamp,
    createdAt: iso(status.createdAt),
    updatedAt: iso(status.updatedAt),
  }
}
