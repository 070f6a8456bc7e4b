/**
 * Every error this library raises carries a stable `code` so callers can branch on it without
 * string-matching messages, and `isPrepaidBalancesError()` works across duplicated module copies
 * (where `instanceof` does not). Messages never contain access tokens.
 */
export type PrepaidBalancesErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_INVALID_INSTALLATION_ID'
  | 'ERR_INVALID_CREDENTIALS'
  | 'ERR_INVALID_BALANCES'
  | 'ERR_ENCRYPTION_KEY'
  | 'ERR_DECRYPTION_FAILED'
  | 'ERR_UNKNOWN_KEY_ID'
  | 'ERR_INSTALLATION_NOT_FOUND'
  | 'ERR_STORE'
  | 'ERR_STORE_DRIVER_MISSING'
  | 'ERR_REPORTER_CLOSED'
  | 'ERR_VERCEL_REQUEST'

const BRAND = Symbol.for('prepaid-balances.error')

export class PrepaidBalancesError extends Error {
  readonly code: PrepaidBalancesErrorCode
  /** HTTP status from Vercel, for `ERR_VERCEL_REQUEST`. */
  readonly status: number | undefined
  /** Marks the error across module copies; see {@link isPrepaidBalancesError}. */
  readonly [BRAND] = true

  constructor(
    code: PrepaidBalancesErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PrepaidBalancesError'
    this.code = code
    this.status = options?.status
  }
}

/**
 * True for any error raised by this library, optionally of one `code`.
 *
 * @example
 * try { await reporter.saveInstallation(id, creds) } catch (err) {
 *   if (isPrepaidBalancesError(err, 'ERR_INVALID_CREDENTIALS')) return c.json({ error: err.message }, 400)
 *   throw err
 * }
 */
export function isPrepaidBalancesError(
  error: unknown,
  code?: PrepaidBalancesErrorCode,
): error is PrepaidBalancesError {
  if (typeof error !== 'object' || error === null) return false
  if ((error as Record<symbol, unknown>)[BRAND] !== true) return false
  return code === undefined || (error as PrepaidBalancesError).code === code
}
