import { z } from 'zod'
import type { EncryptionKeyInput, Keyring } from '../crypto/keyring.js'
import { parseOptions } from '../parse-options.js'
import { createEncryptedStore } from './encrypted-store.js'
import { sqliteBackend } from './sqlite-backend.js'
import { loadSqliteDriver } from './sqlite-driver.js'
import { DEFAULT_TABLE_NAME, TABLE_NAME_PATTERN } from './sqlite-schema.js'
import type { BalanceStore } from './store-types.js'

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing; its directory must exist), or `:memory:`. */
  filename: string
  /** A 32-byte base64 key or a keyring (`id:key,…`). The file never holds a plaintext token. */
  encryptionKey: EncryptionKeyInput | Keyring
  /** Table to use, so the store can live in the app's own database. Default `prepaid_balances_installations`. */
  tableName?: string
  /** How long a write waits for another connection's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number
}

const optionsSchema = z.object({
  filename: z.string({ error: 'must be a file path (or ":memory:")' }).min(1, 'must not be empty'),
  tableName: z
    .string()
    .regex(
      TABLE_NAME_PATTERN,
      'must be a plain SQL identifier: letters, digits and "_", not starting with a digit or "sqlite_", at most 48 characters',
    )
    .optional(),
  busyTimeoutMs: z.number().int().min(0, 'must be an integer ≥ 0').optional(),
})

/**
 * A durable store in one SQLite file, on better-sqlite3 (an optional peer dependency:
 * `npm install better-sqlite3`). For one host: several processes may share the file (WAL mode,
 * `busy_timeout`) and coordinate through it with leases (`store.leases`), as replicas do over
 * PostgreSQL or Redis; replicas on several hosts need `postgresStore` or `redisStore`.
 *
 * Each `write()` batch is one transaction. With `synchronous = NORMAL`, committed writes survive a
 * process crash (SIGKILL); a power loss or OS crash may lose the last commits before a checkpoint.
 *
 * @example
 * const store = sqliteStore({ filename: './balances.db', encryptionKey: process.env.BALANCES_ENCRYPTION_KEY! })
 * const reporter = createBalanceReporter({ store, getBalances })
 */
export function sqliteStore(options: SqliteStoreOptions): BalanceStore {
  const {
    filename,
    tableName = DEFAULT_TABLE_NAME,
    busyTimeoutMs = 5000,
  } = parseOptions(optionsSchema, options ?? {}, 'sqliteStore')
  const backend = sqliteBackend({
    driver: loadSqliteDriver(),
    filename,
    table: tableName,
    busyTimeoutMs,
  })
  return createEncryptedStore(backend, options.encryptionKey)
}
