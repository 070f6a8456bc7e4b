import { inPgTransaction, type PgPool } from './postgres-driver.js'

/** Identifiers are spliced into SQL, so only plain ones pass (63 bytes minus index suffixes). */
export const PG_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/

/** The table's name, quoted (and schema-qualified when a schema is given). */
export function qualifiedName(table: string, schema: string | undefined): string {
  return schema ? `"${schema}"."${table}"` : `"${table}"`
}

/** Epoch ms by the database's clock, the one every replica shares. */
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint'

/**
 * The table. Times are epoch ms (`bigint`); `lease_until`, `last_claimed_at`, `sched_at` and
 * `pending_marked_at` are the database's clock, every other time is the writer's `at`. Ids sort by byte (`COLLATE "C"`),
 * as in the other stores. The token is only ever the cipher's envelope.
 */
function schemaSql(table: string, schema: string | undefined): string {
  const t = qualifiedName(table, schema)
  return `
    CREATE TABLE IF NOT EXISTS ${t} (
      installation_id   text COLLATE "C" PRIMARY KEY,
      token_envelope    text    NOT NULL,
      token_type        text    NOT NULL,
      token_state       text    NOT NULL,
      token_generation  integer NOT NULL,
      pending           boolean NOT NULL,
      pending_since     bigint,
      pending_seq       bigint  NOT NULL DEFAULT 0,
      last_timestamp    text,
      last_attempt_at   bigint,
      last_delivered_at bigint,
      last_outcome      text,
      last_status       integer,
      created_at        bigint  NOT NULL,
      updated_at        bigint  NOT NULL,
      lease_owner       text,
      lease_until       bigint,
      last_claimed_at   bigint,
      sched_at          bigint,
      pending_marked_at bigint
    );
    CREATE INDEX IF NOT EXISTS "${table}_due" ON ${t} (last_attempt_at NULLS FIRST, installation_id)
      WHERE token_state = 'active';
    CREATE INDEX IF NOT EXISTS "${table}_pending" ON ${t} (pending_since, installation_id)
      WHERE pending AND token_state = 'active';
    CREATE INDEX IF NOT EXISTS "${table}_leases" ON ${t} (lease_until, installation_id)
      WHERE lease_owner IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${table}_sched" ON ${t} (sched_at NULLS FIRST, installation_id)
      WHERE token_state = 'active';
  `
}

/**
 * Creates the table and indexes if missing. Replicas that start at once would race on
 * `CREATE … IF NOT EXISTS` (it can fail with a duplicate-key error on the catalog), so the DDL
 * runs under a transaction-scoped advisory lock keyed by the table's name.
 */
export async function createSchema(pool: PgPool, table: string, schema?: string): Promise<void> {
  await inPgTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `prepaid-balances:${schema ?? ''}.${table}`,
    ])
    await client.query(schemaSql(table, schema))
  })
}

/** Columns of `InstallationRecord`, aliased to its property names (bigints as JS numbers). */
export const PG_RECORD_COLUMNS = `
  installation_id AS "installationId", token_type AS "tokenType", token_state AS "tokenState",
  token_generation AS "tokenGeneration", pending, pending_since::float8 AS "pendingSince",
  last_timestamp AS "lastTimestamp", last_attempt_at::float8 AS "lastAttemptAt",
  last_delivered_at::float8 AS "lastDeliveredAt", last_outcome AS "lastOutcome",
  last_status AS "lastStatus", created_at::float8 AS "createdAt", updated_at::float8 AS "updatedAt"`

export const PG_SEALED_COLUMNS = `
  token_envelope AS envelope, token_type AS "tokenType", token_state AS "tokenState",
  token_generation AS "tokenGeneration"`
