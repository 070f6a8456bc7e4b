/**
 * A minimal logger shape that `console`, pino (via a wrapper) and most loggers satisfy.
 * Fields never contain access tokens: the library never passes them to a logger.
 */
export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void
  info?(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** Logs warnings and errors to the console; the default. */
export const consoleLogger: Logger = {
  warn: (message, fields) => console.warn(`[prepaid-balances] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[prepaid-balances] ${message}`, fields ?? ''),
}

/** Logs nothing. */
export const silentLogger: Logger = {
  warn: () => {},
  error: () => {},
}
