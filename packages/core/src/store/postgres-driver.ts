import { loadOptionalPeer, type RequireModule } from './optional-peer.js'

/** The part of a `pg` query result the store reads. */
export interface PgQueryResult {
  rows: Array<Record<string, unknown>>
  rowCount: number | null
}

export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<PgQueryResult>
}

/** A client checked out of a pool (`pg.PoolClient`). */
export interface PgPoolClient extends PgQueryable {
  release(error?: Error | boolean): void
}

/**
 * The part of a `pg.Pool` the store uses; declared here so the public types do not depend on
 * `@types/pg`. A `pg.Pool` (or a compatible pool) satisfies it.
 */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>
  end(): Promise<void>
}

interface PgModule {
  Pool: new (config: {
    connectionString: string
    max?: number
  }) => PgPool & {
    on(event: 'error', listener: (error: Error) => void): unknown
  }
}

/** Loads `pg` only when a store must open its own pool (an optional peer dependency). */
export function loadPgDriver(requireModule?: RequireModule): PgModule {
  const loaded = loadOptionalPeer('pg', 'postgresStore', requireModule) as PgModule & {
    default?: PgModule
  }
  return loaded.Pool ? loaded : (loaded.default as PgModule)
}

/**
 * Runs `work` on one pooled client inside BEGIN … COMMIT; on any error rolls back and hands the
 * client back marked broken (pg then discards it rather than reusing a connection in an
 * unknown state).
 */
export async function inPgTransaction(
  pool: PgPool,
  work: (client: PgPoolClient) => Promise<void>,
): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await work(client)
    await client.query('COMMIT')
    client.release()
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    client.release(error instanceof Error ? error : true)
    throw error
  }
}
