import {
  badRequest,
  HttpError,
  isValidInstallationId,
  payloadTooLarge,
} from '@prepaid-balances/core'

/**
 * @typedef {{ status: number, body: unknown, headers?: Record<string, string> }} Answer
 * A framework-neutral response; each app copies it onto its own response object.
 */

/** Bodies of the example's own routes are tiny; the library's routes have their own limit. */
export const USAGE_MAX_BODY_BYTES = 4096

/**
 * Any thrown value as an answer in the library's `{ error: { code, message, issues? } }` shape,
 * so the example's routes fail like the library's. Unexpected errors are logged, not echoed.
 *
 * @param {unknown} error
 * @param {import('@prepaid-balances/core').Logger} logger
 * @returns {Answer}
 */
export function errorAnswer(error, logger) {
  if (error instanceof HttpError) {
    const { status, code, message, issues, headers } = error
    return { status, headers, body: { error: { code, message, ...(issues ? { issues } : {}) } } }
  }
  // body-parser (express.json) tags its refusals with `type` and a 4xx `status`.
  const { type, status } = /** @type {{ type?: unknown, status?: unknown }} */ (error ?? {})
  if (type === 'entity.too.large') return errorAnswer(usageBodyTooLarge(), logger)
  if (type === 'entity.parse.failed') return errorAnswer(malformedJson(), logger)
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof type === 'string') {
    return errorAnswer(
      new HttpError(status, 'bad_request', 'The request could not be read'),
      logger,
    )
  }
  logger.error('Request failed', {
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    ...(error instanceof Error ? { stack: error.stack } : {}),
  })
  return errorAnswer(new HttpError(500, 'internal_server_error', 'Internal error'), logger)
}

export const malformedJson = () => badRequest('The request body is not valid JSON')

export const notJson = () =>
  badRequest('Send the body as JSON with "Content-Type: application/json"')

export const usageBodyTooLarge = () => payloadTooLarge(USAGE_MAX_BODY_BYTES)

/** @param {string | undefined} contentType */
export const isJsonContentType = (contentType) =>
  /^application\/json\s*(;|$)/i.test(contentType ?? '')

/**
 * The example's own usage route is lenient with clients (curl, scripts) that send JSON without
 * saying so: a missing Content-Type is read as JSON; an explicit other type is refused.
 *
 * @param {string | undefined} contentType
 */
export const mayBeJson = (contentType) => !contentType || isJsonContentType(contentType)

/** @param {string} what e.g. `GET /nope` */
export const notFound = (what) => new HttpError(404, 'not_found', `No route for ${what}`)

/**
 * The `:installationId` of the example's own routes, checked like the library checks its own.
 *
 * @param {unknown} value
 * @returns {string}
 */
export function parseInstallationParam(value) {
  if (!isValidInstallationId(value)) {
    throw badRequest('The installation id is invalid', [
      { path: 'installationId', message: 'may only contain letters, digits, "_" and "-"' },
    ])
  }
  return value
}

/**
 * `{ "cents": n }` with n a positive integer, or a 400 listing what is wrong.
 *
 * @param {unknown} body
 * @returns {number}
 */
export function parseUsageBody(body) {
  const cents = /** @type {{ cents?: unknown } | null} */ (body)?.cents
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The request body is invalid', [
      { path: '(body)', message: 'expected a JSON object like {"cents": 25}' },
    ])
  }
  if (typeof cents !== 'number' || !Number.isSafeInteger(cents) || cents <= 0) {
    throw badRequest('The request body is invalid', [
      {
        path: 'cents',
        message: 'must be a positive integer (the tokens to spend; 1 token = 1 cent)',
      },
    ])
  }
  return cents
}
