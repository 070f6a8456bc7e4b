// The stores the benchmarks run against, created through the public API only.
import { join } from 'node:path'
import * as core from '@prepaid-balances/core'
import { BENCH_ENCRYPTION_KEY, tokenFor } from './fixtures.mjs'

export const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** True once core exports `postgresStore` (added by a separate change). */
export const hasPostgresStore = typeof core.postgresStore === 'function'

/**
 * Creates an empty store of `kind` ('memory' | 'sqlite' | 'postgres'). SQLite lives in `dir`;
 * PostgreSQL uses its own table, dropped first so each run starts empty.
 */
export async function createStore(kind, { dir, table = 'prepaid_bench_installations' } = {}) {
  const encryptionKey = BENCH_ENCRYPTION_KEY
  if (kind === 'memory') return core.memoryStore({ encryptionKey })
  if (kind === 'sqlite')
    return core.sqliteStore({ filename: join(dir, 'balances.db'), encryptionKey })
  if (kind === 'postgres') {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 8 })
    await pool.query(`DROP TABLE IF EXISTS "${table}"`)
    const store = core.postgresStore({ pool, encryptionKey, tableName: table })
    return Object.assign(store, { benchPool: pool })
  }
  throw new Error(`unknown store kind ${kind}`)
}

/** Opens an existing store again (same file / table), e.g. in a fresh process. */
export async function openStore(kind, { dir, table = 'prepaid_bench_installations' } = {}) {
  if (kind !== 'postgres') return createStore(kind, { dir, table })
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 8 })
  const store = core.postgresStore({ pool, encryptionKey: BENCH_ENCRYPTION_KEY, tableName: table })
  return Object.assign(store, { benchPool: pool })
}

/** Stores every installation's token (encrypted by the store), a few at a time. */
export async function populate(store, ids, { parallel = 1 } = {}) {
  await store.init()
  const at = Date.now()
  for (let i = 0; i < ids.length; i += parallel) {
    const chunk = ids.slice(i, i + parallel)
    await Promise.all(
      chunk.map((id) => store.saveCredentials(id, { accessToken: tokenFor(id) }, at)),
    )
  }
}

export async function closeStore(store) {
  await store.close()
  await store.benchPool?.end()
}

/** Removes what a benchmark stored in PostgreSQL (SQLite files go with their temp dir). */
export async function dropPostgresTable(table = 'prepaid_bench_installations') {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 })
  try {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`)
  } finally {
    await pool.end()
  }
}

/**
 * `VACUUM (ANALYZE)` of the benchmark's table. Between two production sweeps (an hour apart)
 * autovacuum would have cleaned the previous sweep's dead row versions and gathered statistics;
 * a benchmark that sweeps back to back, on a server with autovacuum off (as this CI machine's
 * is), would otherwise measure a table that grows by two dead versions per row each round.
 */
export async function vacuumPostgresTable(table = 'prepaid_bench_installations') {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 })
  try {
    await pool.query(`VACUUM (ANALYZE) "${table}"`)
  } finally {
    await pool.end()
  }
}

/** Null when PostgreSQL answers at POSTGRES_URL, else why not. */
export async function postgresUnavailable() {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({
    connectionString: POSTGRES_URL,
    max: 1,
    connectionTimeoutMillis: 3000,
  })
  try {
    await pool.query('SELECT 1')
    return null
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await pool.end()
  }
}
