import type { PgPool } from './postgres-driver.js'
import { NOW_MS, PG_SEALED_COLUMNS } from './postgres-schema.js'
import type { BackendLeases, SealedLeaseClaim } from './store-backend.js'
import type { HeldLease, LeaseBatchOptions, LeaseClaimOptions, TokenState } from './store-types.js'

const ids = (rows: Array<Record<string, unknown>>) => rows.map((row) => row.id as string)

/**
 * Leases in PostgreSQL. Each decision is one statement whose `WHERE` re-checks the row under its
 * row lock, so concurrent replicas cannot both win; sweeps use `FOR UPDATE SKIP LOCKED` so they
 * split the due rows instead of queueing on them. All times are the database's clock.
 * Semantics: `lease-transitions.ts`.
 */
export function postgresLeases(pool: () => PgPool, table: string): BackendLeases {
  const clock = `clock AS (SELECT ${NOW_MS} AS now)`
  // Owed work, for claims with `onlyIf` (parameters: onlyIf given, idleMs or null).
  const owed = (given: string, idle: string, t = 't') => `(NOT ${given}::boolean OR ${t}.pending
    OR ${t}.lease_owner IS NOT NULL OR (${idle}::bigint IS NOT NULL
      AND (${t}.last_claimed_at IS NULL OR ${t}.last_claimed_at <= clock.now - ${idle}::bigint)))`
  const claimSql = `
    WITH ${clock}
    UPDATE ${table} AS t SET lease_owner = $2, lease_until = clock.now + $3::bigint,
      last_claimed_at = clock.now, sched_at = clock.now
    FROM clock
    WHERE t.installation_id = $1 AND t.token_state = 'active'
      AND (t.lease_owner IS NULL OR t.lease_until <= clock.now) AND ${owed('$4', '$5')}
    RETURNING ${PG_SEALED_COLUMNS},
      t.pending_seq::float8 AS "pendingSeq", t.last_timestamp AS "lastTimestamp"`
  // Why a claim did not happen (read without locking, so it may be stale: see claim()).
  const explainSql = `
    WITH ${clock}
    SELECT t.token_state AS "tokenState",
      (t.lease_owner IS NOT NULL AND t.lease_until > clock.now) AS live,
      (t.lease_until - clock.now)::float8 AS "remainingMs", ${owed('$2', '$3')} AS owed
    FROM ${table} AS t, clock WHERE t.installation_id = $1`

  // `claimMany`'s `reserveTimestamp` (lease-transitions.ts `claimLease`): max(from, last + 1 ms)
  // as the ISO-8601 text JavaScript's toISOString() writes; `from` ($6) null: no reservation.
  // Stored timestamps are that ISO text, read back exactly (a timestamptz keeps microseconds).
  // Text that is no such timestamp counts as none, as in nextTimestamp() (greatest skips null).
  const lastMs = `CASE WHEN t.last_timestamp ~ '^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$'
    THEN (extract(epoch from t.last_timestamp::timestamptz) * 1000)::bigint END`
  const reserved = (from: string) => `CASE WHEN ${from}::bigint IS NULL THEN t.last_timestamp
    ELSE to_char(TIMESTAMP 'epoch'
      + greatest(${from}::bigint, ${lastMs} + 1) * INTERVAL '1 millisecond',
      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END`

  // A page of claims in one statement. The claimable rows are locked in id order with SKIP
  // LOCKED, so two replicas' batches never wait on each other (nor deadlock); the others (only
  // they: a taken row needs no explanation) are explained from the statement's snapshot, as
  // `explainSql` does for one claim.
  const claimManySql = `
    WITH ${clock},
    wanted AS (
      SELECT w.id, w.token, w.ord
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(id, token, ord)),
    locked AS (
      SELECT t.installation_id AS id, t.last_timestamp AS prev FROM ${table} AS t, clock
      WHERE t.installation_id = ANY($1::text[]) AND t.token_state = 'active'
        AND (t.lease_owner IS NULL OR t.lease_until <= clock.now) AND ${owed('$4', '$5')}
      ORDER BY t.installation_id FOR UPDATE OF t SKIP LOCKED),
    taken AS (
      UPDATE ${table} AS t SET lease_owner = wanted.token, lease_until = clock.now + $3::bigint,
        last_claimed_at = clock.now, sched_at = clock.now, last_timestamp = ${reserved('$6')}
      FROM clock, locked, wanted
      WHERE t.installation_id = locked.id AND wanted.id = locked.id
      RETURNING t.installation_id AS id, ${PG_SEALED_COLUMNS},
        t.pending_seq::float8 AS "pendingSeq", locked.prev AS "lastTimestamp",
        CASE WHEN $6::bigint IS NULL THEN NULL ELSE t.last_timestamp END AS "reservedTimestamp")
    SELECT taken.*, s.token_state AS state,
      (s.lease_owner IS NOT NULL AND s.lease_until > clock.now) AS live,
      (s.lease_until - clock.now)::float8 AS "remainingMs", ${owed('$4', '$5', 's')} AS owed
    FROM wanted CROSS JOIN clock
      LEFT JOIN taken ON taken.id = wanted.id
      LEFT JOIN LATERAL (
        -- OFFSET 0 keeps this a subquery, so \`taken.id IS NULL\` gates the lookup (a one-time
        -- filter per row): a taken row is not looked up again. As a plain join condition it
        -- would only filter after the lookup.
        SELECT * FROM ${table} AS s0
        WHERE s0.installation_id = wanted.id AND taken.id IS NULL OFFSET 0) AS s ON true
    ORDER BY wanted.ord`

  async function claimMany(
    claims: readonly HeldLease[],
    options: LeaseBatchOptions,
  ): Promise<SealedLeaseClaim[]> {
    if (claims.length === 0) return []
    const onlyIf = [options.onlyIf !== undefined, options.onlyIf?.idleMs ?? null]
    const reserveFrom = options.reserveTimestamp?.from ?? null
    const { rows } = await pool().query(claimManySql, [
      claims.map((c) => c.installationId),
      claims.map((c) => c.token),
      options.leaseMs,
      ...onlyIf,
      reserveFrom,
    ])
    return Promise.all(
      rows.map((row, i): SealedLeaseClaim | Promise<SealedLeaseClaim> => {
        if (row.id !== null) return claimedFrom(row)
        const { state: tokenState, live, remainingMs, owed } = row
        const refused = refusal(
          tokenState === null ? undefined : { tokenState, live, remainingMs, owed },
        )
        if (refused) return refused
        // Claimable by the snapshot, yet not taken: another transaction holds the row right
        // now, or changed it since. Rare; the single claim waits for the row and decides.
        const { installationId, token } = claims[i]!
        return claimThenReserve(installationId, { ...options, token }, reserveFrom)
      }),
    )
  }

  /** The rare fallback of `claimMany`: a claim, then (under the lease) the reservation. */
  async function claimThenReserve(
    installationId: string,
    options: LeaseClaimOptions,
    reserveFrom: number | null,
  ): Promise<SealedLeaseClaim> {
    const claimed = await claim(installationId, options)
    if (claimed.status !== 'claimed' || reserveFrom === null) return claimed
    const { rows } = await pool().query(
      `UPDATE ${table} AS t SET last_timestamp = ${reserved('$3')}
      WHERE t.installation_id = $1 AND t.lease_owner = $2
      RETURNING t.last_timestamp AS "reservedTimestamp"`,
      [installationId, options.token, reserveFrom],
    )
    // The lease can only be gone if it expired meanwhile: then there is nothing to report under.
    if (rows.length === 0) return { status: 'busy', retryInMs: 1 }
    return { ...claimed, reservedTimestamp: rows[0]!.reservedTimestamp as string }
  }

  async function claim(
    installationId: string,
    options: LeaseClaimOptions,
  ): Promise<SealedLeaseClaim> {
    const onlyIf = [options.onlyIf !== undefined, options.onlyIf?.idleMs ?? null]
    const values = [installationId, options.token, options.leaseMs, ...onlyIf]
    // A lease freed between the two statements would look claimable: try again (rarely twice).
    for (let attempt = 0; attempt < 3; attempt++) {
      const taken = await pool().query(claimSql, values)
      const row = taken.rows[0]
      if (row) return claimedFrom(row)
      const why = (await pool().query(explainSql, [installationId, ...onlyIf])).rows[0]
      const refused = refusal(why as Explanation | undefined)
      if (refused) return refused
    }
    return { status: 'busy', retryInMs: 10 }
  }

  return {
    claim,
    claimMany,
    async renew(held, leaseMs) {
      const renewed = await pool().query(
        `WITH ${clock}
        UPDATE ${table} AS t SET lease_until = clock.now + $3::bigint
        FROM clock, unnest($1::text[], $2::text[]) AS h(id, token)
        WHERE t.installation_id = h.id AND t.lease_owner = h.token
        RETURNING t.lease_owner AS token`,
        [held.map((h) => h.installationId), held.map((h) => h.token), leaseMs],
      )
      return renewed.rows.map((row) => row.token as string)
    },
    async release({ installationId, token }) {
      await pool().query(
        `UPDATE ${table} SET lease_owner = NULL, lease_until = NULL
        WHERE installation_id = $1 AND lease_owner = $2`,
        [installationId, token],
      )
    },
    async listAbandoned(limit) {
      const found = await pool().query(
        `WITH ${clock}
        SELECT t.installation_id AS id FROM ${table} AS t, clock
        WHERE t.lease_owner IS NOT NULL AND t.lease_until <= clock.now
          AND t.token_state = 'active'
        ORDER BY t.lease_until, t.installation_id LIMIT $1`,
        [limit],
      )
      return ids(found.rows)
    },
    async listUnattended({ retryFailedAfterMs, pendingForMs = 0, limit }) {
      // Pending rows through the pending index, plus abandoned leases through the lease index.
      const found = await pool().query(
        `WITH ${clock}
        SELECT id FROM (
          SELECT t.installation_id AS id, t.pending_since FROM ${table} AS t, clock
          WHERE t.pending AND t.token_state = 'active'
            AND (t.lease_owner IS NULL OR t.lease_until <= clock.now)
            AND NOT (t.last_outcome IS NOT DISTINCT FROM 'failed'
              AND COALESCE(t.last_claimed_at > clock.now - $1::bigint, false))
            AND COALESCE(t.pending_marked_at <= clock.now - $3::bigint, true)
          UNION
          SELECT t.installation_id, t.pending_since FROM ${table} AS t, clock
          WHERE t.lease_owner IS NOT NULL AND t.lease_until <= clock.now
            AND t.token_state = 'active'
        ) AS unattended ORDER BY pending_since NULLS FIRST, id LIMIT $2`,
        [retryFailedAfterMs, limit, pendingForMs],
      )
      return ids(found.rows)
    },
    async reserveDue(olderThanMs, reserveMs, limit) {
      // SKIP LOCKED: concurrent sweeps take disjoint rows; a row another sweep reserved and
      // committed meanwhile is re-checked under its lock and no longer matches.
      const reserved = await pool().query(
        `WITH ${clock}, picked AS (
          SELECT t.installation_id FROM ${table} AS t, clock
          WHERE t.token_state = 'active' AND (t.lease_owner IS NULL OR t.lease_until <= clock.now)
            AND (t.sched_at IS NULL OR t.sched_at <= clock.now - $1::bigint)
          ORDER BY t.sched_at NULLS FIRST, t.installation_id
          LIMIT $3 FOR UPDATE OF t SKIP LOCKED)
        UPDATE ${table} AS u SET sched_at = clock.now + $2::bigint - $1::bigint
        FROM picked, clock WHERE u.installation_id = picked.installation_id
        RETURNING u.installation_id AS id`,
        [olderThanMs, reserveMs, limit],
      )
      return ids(reserved.rows)
    },
  }
}

/** A row's state as `explainSql` (and `claimManySql` for the rows it did not take) reads it. */
interface Explanation {
  tokenState: unknown
  live: unknown
  remainingMs: unknown
  owed: unknown
}

/**
 * Why a claim did not take the row (undefined: no such installation), or null if it looked
 * claimable: a lease freed, or a row changed, after the claim's snapshot (claim again).
 */
function refusal(why: Explanation | undefined): SealedLeaseClaim | null {
  if (!why) return { status: 'unknown' }
  if (why.tokenState !== 'active') {
    return { status: 'inactive', tokenState: why.tokenState as TokenState }
  }
  if (why.live) return { status: 'busy', retryInMs: Math.max(1, why.remainingMs as number) }
  if (!why.owed) return { status: 'idle' }
  return null
}

function claimedFrom(row: Record<string, unknown>): SealedLeaseClaim {
  return {
    status: 'claimed',
    sealed: {
      envelope: row.envelope as string,
      tokenType: row.tokenType as string,
      tokenState: row.tokenState as TokenState,
      tokenGeneration: row.tokenGeneration as number,
    },
    pendingSeq: row.pendingSeq as number,
    lastTimestamp: row.lastTimestamp as string | null,
    ...(typeof row.reservedTimestamp === 'string'
      ? { reservedTimestamp: row.reservedTimestamp }
      : {}),
  }
}
