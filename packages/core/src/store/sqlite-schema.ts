/**
 * The SQLite table. Times are epoch ms integers, `pending` is 0/1, and the token is only ever the
 * cipher's envelope. WITHOUT ROWID because every hot statement looks rows up by installation id.
 */

export const DEFAULT_TABLE_NAME = 'prepaid_balances_installations'

/** Table names are spliced into SQL, so only plain identifiers pass; `sqlite_` is reserved. */
export const TABLE_NAME_PATTERN = /^(?!sqlite_)[A-Za-z_][A-Za-z0-9_]{0,47}$/i

export function schemaSql(table: string): string {
  return `
    CREATE TABLE IF NOT EXISTS "${table}" (
      installation_id   TEXT    NOT NULL PRIMARY KEY,
      token_envelope    TEXT    NOT NULL,
      token_type        TEXT    NOT NULL,
      token_state       TEXT    NOT NULL,
      token_generation  INTEGER NOT NULL,
      pending           INTEGER NOT NULL,
      pending_since     INTEGER,
      last_timestamp    TEXT,
      last_attempt_at   INTEGER,
      last_delivered_at INTEGER,
      last_outcome      TEXT,
      last_status       INTEGER,
      created_at        INTEGER NOT NULL,
      updated_at        INTEGER NOT NULL,
      ${LEASE_COLUMNS.map(([name, type]) => `${name} ${type}`).join(',\n      ')}
    ) WITHOUT ROWID;
    -- listDue walks this in order: never-attempted (NULL) first, then oldest attempt.
    CREATE INDEX IF NOT EXISTS "${table}_due"
      ON "${table}" (last_attempt_at, installation_id) WHERE token_state = 'active';
    -- listPending: small, since only pending rows are in it.
    CREATE INDEX IF NOT EXISTS "${table}_pending"
      ON "${table}" (pending_since, installation_id) WHERE pending = 1 AND token_state = 'active';
  `
}

/**
 * Columns for multi-process coordination (see `lease-transitions.ts`), added to tables created
 * before they existed. Times are this host's clock: every process sharing the file reads it.
 */
export const LEASE_COLUMNS = [
  ['pending_seq', 'INTEGER NOT NULL DEFAULT 0'],
  ['lease_owner', 'TEXT'],
  ['lease_until', 'INTEGER'],
  ['last_claimed_at', 'INTEGER'],
  ['sched_at', 'INTEGER'],
  ['pending_marked_at', 'INTEGER'],
] as const

export function leaseIndexSql(table: string): string {
  return `
    -- listAbandoned: only rows with a lease.
    CREATE INDEX IF NOT EXISTS "${table}_leases"
      ON "${table}" (lease_until, installation_id) WHERE lease_owner IS NOT NULL;
    -- reserveDue walks this in order: never claimed (NULL) first, then oldest claim.
    CREATE INDEX IF NOT EXISTS "${table}_sched"
      ON "${table}" (sched_at, installation_id) WHERE token_state = 'active';
  `
}

/** Columns of `InstallationRecord`, aliased to its property names. */
export const RECORD_COLUMNS = `
  installation_id AS installationId, token_type AS tokenType, token_state AS tokenState,
  token_generation AS tokenGeneration, pending, pending_since AS pendingSince,
  last_timestamp AS lastTimestamp, last_attempt_at AS lastAttemptAt,
  last_delivered_at AS lastDeliveredAt, last_outcome AS lastOutcome, last_status AS lastStatus,
  created_at AS createdAt, updated_at AS updatedAt`
