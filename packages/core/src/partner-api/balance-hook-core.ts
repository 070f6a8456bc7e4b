import { PrepaidBalancesError } from '../errors.js'
import { consoleLogger, type Logger } from '../logger.js'
import type { BalanceReporter } from '../reporter/reporter-types.js'

/** What every framework's `balanceHook` accepts; `Accessor` is its framework-specific function. */
export interface BalanceHookCoreOptions<Accessor> {
  reporter: BalanceReporter
  installationId: string | Accessor
  logger?: Logger
}

export interface BalanceHookCore<Accessor> {
  reporter: BalanceReporter
  logger: Logger
  /** A route param name, or the framework-specific accessor function. */
  source: string | Accessor
  /**
   * Call once the response is known. On a 2xx, notifies the reporter for the installation
   * `readId` names and hands the report to `keepAlive` (serverless `waitUntil`); never throws:
   * the hook must not fail or delay the host's response, so its errors go to the logger.
   */
  afterResponse(
    status: number,
    readId: () => string | null | undefined,
    keepAlive: (report: () => Promise<void>) => void,
    /** The request path, for the error log only: read only when there is an error to log. */
    path: () => string,
  ): void
}

/**
 * The framework-neutral half of `balanceHook`: options checked once, at construction, and the
 * "notify after a 2xx, never break the response" rule, shared by the Hono and Express adapters.
 */
export function createBalanceHookCore<Accessor extends (...args: never[]) => unknown>(
  options: BalanceHookCoreOptions<Accessor>,
  accessorSignature: string,
): BalanceHookCore<Accessor> {
  if (typeof options?.reporter?.notify !== 'function') {
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      'balanceHook: option "reporter" must be the reporter returned by createBalanceReporter()',
    )
  }
  const source = options.installationId
  if (typeof source !== 'function' && (typeof source !== 'string' || source === '')) {
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      `balanceHook: option "installationId" must be a route param name or a function ${accessorSignature} => installation id | undefined`,
    )
  }
  const { reporter } = options
  const logger = options.logger ?? consoleLogger
  const fail = (path: () => string, error: unknown) =>
    logger.error('balanceHook: could not notify the reporter', {
      path: path(),
      error: error instanceof Error ? error.message : String(error),
    })
  return {
    reporter,
    logger,
    source,
    afterResponse(status, readId, keepAlive, path) {
      if (status < 200 || status > 299) return
      try {
        const installationId = readId()
        if (!installationId) return
        reporter.notify(installationId)
        keepAlive(() => reporter.flush().catch((error: unknown) => fail(path, error)))
      } catch (error) {
        fail(path, error)
      }
    },
  }
}
