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
   * Call once the response is known. On a 2xx, notifies the reporter for the installation that
   * `readId(context)` names and returns true; never throws: the hook must not fail or delay the
   * host's response, so its errors go to the logger. `readId` and `path` take the framework's
   * request context so that adapters pass functions made once, not closures per request.
   */
  notifyAfter<Context>(
    status: number,
    context: Context,
    readId: (context: Context) => string | null | undefined,
    path: (context: Context) => string,
  ): boolean
  /** Hands `reporter.flush()` to a serverless keep-alive (`waitUntil`), logging its failure. */
  keepReportAlive<Context>(
    context: Context,
    keepAlive: (report: () => Promise<void>) => void,
    path: (context: Context) => string,
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
  const fail = (path: string, error: unknown) =>
    logger.error('balanceHook: could not notify the reporter', {
      path,
      error: error instanceof Error ? error.message : String(error),
    })
  return {
    reporter,
    logger,
    source,
    notifyAfter(status, context, readId, path) {
      if (status < 200 || status > 299) return false
      try {
        const installationId = readId(context)
        if (!installationId) return false
        reporter.notify(installationId)
        return true
      } catch (error) {
        fail(path(context), error)
        return false
      }
    },
    keepReportAlive(context, keepAlive, path) {
      try {
        keepAlive(() => reporter.flush().catch((error: unknown) => fail(path(context), error)))
      } catch (error) {
        fail(path(context), error)
      }
    },
  }
}
