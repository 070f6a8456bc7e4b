// The packages as a partner's app loads them: the built entry points (the root `pnpm test` builds
// them first). One copy of the core is shared with the adapters, which import it from dist too.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'

export * from '../../../packages/core/dist/index.js'
export * from '../../../packages/core/dist/testing/index.js'
export { prepaidBalancesRouter } from '../../../packages/express-adapter/dist/index.js'
export { prepaidBalances } from '../../../packages/hono-plugin/dist/index.js'

/** The built core's entry point, for child processes that import it as a partner would. */
export const coreEntryUrl = new URL('../../../packages/core/dist/index.js', import.meta.url).href

// Express and better-sqlite3 are dependencies of the workspace packages, not of the repository
// root, so they are resolved from the package that depends on them.
const fromExpressAdapter = createRequire(
  new URL('../../../packages/express-adapter/package.json', import.meta.url),
)
const fromCore = createRequire(new URL('../../../packages/core/package.json', import.meta.url))

/** The part of an Express application these tests use. */
export interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void
  use(...handlers: unknown[]): void
}

export const express = fromExpressAdapter('express') as (() => ExpressApp) & {
  json(options?: { limit?: string }): unknown
}

/** The part of better-sqlite3 these tests use, to read and tamper with the store's file. */
export interface RawDatabase {
  prepare(sql: string): {
    run(...params: unknown[]): { changes: number }
    get(...params: unknown[]): unknown
    all(...params: unknown[]): unknown[]
  }
  exec(sql: string): void
  pragma(sql: string): unknown
  close(): void
}

export const openRawDatabase = (filename: string): RawDatabase => {
  const Database = fromCore('better-sqlite3') as new (file: string) => RawDatabase
  return new Database(filename)
}
