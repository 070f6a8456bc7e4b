import { z } from 'zod'
import type { EncryptionKeyInput, Keyring } from '../crypto/keyring.js'
import { parseOptions } from '../parse-options.js'
import { createEncryptedStore } from './encrypted-store.js'
import { postgresBackend } from './postgres-backend.js'
import { loadPgDriver, type PgPool } from './postgres-driver.js'
import { PG_IDENTIFIER_PATTERN } from './postgres-schema.js'
import type { BalanceStore } from './store-types.js'

export type { PgPool, PgPoolClient, PgQueryable, PgQueryResult } from './postgres-driver.js'

interface PostgresStoreCommonOptions {
  /** A 32-byte base64 key or a keyring (`id:key,…`). The database never holds a plaintext token. */
  encryptionKey: EncryptionKeyInput | Keyring
  /** Table to use (created if missing). Default `prepaid_balances_installations`. */
  tableName?: string
  /** Schema of the table. Default: the connection's `search_path` (usually `public`). */
  schema?: string
}

export type PostgresStoreOptions = PostgresStoreCommonOptions &
  (
    | {
        /** e.g. `postgres://user:password@host:5432/db`; the store opens (and closes) its own pool. */
        connectionString: string
        /** Connections in the store's own pool. Default 10. */
        poolSize?: number
        pool?: never
      }
    | {
        /** Your own `pg.Pool`; the store uses it and leaves it open on `close()`. */
        pool: PgPool
        connectionString?: never
        poolSize?: never
      }
  )

export const DEFAULT_PG_TABLE_NAME = 'prepaid_balances_installations'

const identifier = z
  .string()
  .regex(
    PG_IDENTIFIER_PATTERN,
    'must be a plain SQL identifier: letters, digits and "_", not starting with a digit, at most 48 characters',
  )

const optionsSchema = z
  .object({
    connectionString: z.string().min(1, 'must not be empty').optional(),
    pool: z
      .custom<PgPool>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as PgPool).query === 'function' &&
          typeof (v as PgPool).connect === 'function',
        { message: 'must be a pg.Pool (an object with query() and connect())' },
      )
      .optional(),
    poolSize: z.number().int().min(1, 'must be an integer ≥ 1').optional(),
    tableName: identifier.optional(),
    schema: identifier.optional(),
  })
  .refine((o) => (o.connectionString === undefined) !== (o.pool === undefined), {
    message: 'give exactly one of "connectionString" and "pool"',
    path: ['connectionString'],
  })
  .refine((o) => o.pool === undefined || o.poolSize === undefined, {
    message: 'applies only with "connectionString" (size your own pool yourself)',
    path: ['poolSize'],
  })

/**
 * A store in PostgreSQL (on `pg`, an optional peer dependency: `npm install pg`), for partners
 * that run several replicas of their backend: every replica opens a store on the same table.
 *
 * - The table and its indexes are created on first use, under an advisory lock, so replicas
 *   starting at once do not race.
 * - Replicas coordinate through row leases (`store.leases`): at most one report in flight per
 *   installation across all of them; a crashed replica's work is taken over once its lease runs
 *   out; scheduled sweeps reserve rows with `FOR UPDATE SKIP LOCKED`, so N replicas do not send
 *   N reports; lease and schedule times come from the database's clock.
 * - Tokens are encrypted (AES-256-GCM) before they reach the database, as in every store.
 *
 * @example
 * const store = postgresStore({
 *   connectionString: process.env.DATABASE_URL!,
 *   encryptionKey: process.env.BALANCES_ENCRYPTION_KEY!,
 * })
 * const reporter = createBalanceReporter({ store, getBalances })
 *
 * @example
 * // Sharing the app's pool (the store leaves it open on close):
 * const store = postgresStore({ pool, encryptionKey, tableName: 'vercel_balances' })
 */
export function postgresStore(options: PostgresStoreOptions): BalanceStore {
  const { connectionString, pool, poolSize, tableName, schema } = parseOptions(
    optionsSchema,
    options ?? {},
    'postgresStore',
  )
  // Load pg now (not on first use) so a missing driver fails at startup, with the fix.
  const Pool = connectionString === undefined ? undefined : loadPgDriver().Pool
  const backend = postgresBackend({
    openPool: () => {
      if (pool) return pool
      const own = new Pool!({ connectionString: connectionString!, max: poolSize ?? 10 })
      // An idle client's error (e.g. the server restarted) must not crash the process; the
      // next query reconnects, and failing queries surface as ERR_STORE.
      own.on('error', () => {})
      return own
    },
    ownsPool: pool === undefined,
    table: tableName ?? DEFAULT_PG_TABLE_NAME,
    schema,
  })
  return createEncryptedStore(backend, options.encryptionKey)
}
