import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'
import { PrepaidBalancesError } from '../errors.js'

export type SqliteDriver = typeof BetterSqlite3
export type SqliteDatabase = BetterSqlite3.Database

type RequireModule = (id: string) => unknown

/**
 * Loads better-sqlite3 only when a SQLite store is created, so importing the core never needs it
 * (it is an optional peer dependency).
 *
 * Works in both builds: ESM knows its own URL, and tsup's CJS build leaves `import.meta` empty
 * (or shims it) but has a real `require`. Testing `typeof require` would not do: esbuild's ESM
 * output defines a `require` stand-in that throws on use.
 */
export function loadSqliteDriver(requireModule: RequireModule = localRequire()): SqliteDriver {
  try {
    return requireModule('better-sqlite3') as SqliteDriver
  } catch (error) {
    if (isMissingModule(error, 'better-sqlite3')) {
      throw new PrepaidBalancesError(
        'ERR_STORE_DRIVER_MISSING',
        'sqliteStore() needs better-sqlite3, an optional peer dependency that is not installed. ' +
          'Run `npm install better-sqlite3` (or `pnpm add` / `yarn add`) in your app.',
        { cause: error },
      )
    }
    const reason = error instanceof Error ? error.message : String(error)
    throw new PrepaidBalancesError('ERR_STORE', `better-sqlite3 failed to load: ${reason}`, {
      cause: error,
    })
  }
}

function localRequire(): RequireModule {
  return typeof import.meta.url === 'string' ? createRequire(import.meta.url) : require
}

function isMissingModule(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  )
}
