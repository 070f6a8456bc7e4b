import { claimLease, type LeaseFields } from './lease-transitions.js'
import type { SqliteDatabase } from './sqlite-driver.js'
import type { BackendLeases, OneClaimOptions } from './store-backend.js'
import type { InstallationRecord } from './store-types.js'

type Statements = ReturnType<typeof prepareStatements>

/** `readForClaim`'s row as an array (`.raw()`): no object with named keys built per claim. */
type ClaimRow = [
  envelope: string,
  tokenType: string,
  tokenState: InstallationRecord['tokenState'],
  tokenGeneration: number,
  pending: number,
  lastTimestamp: string | null,
  pendingSeq: number,
  leaseOwner: string | null,
  leaseUntil: number | null,
  lastClaimedAt: number | null,
  schedAt: number | null,
]

/**
 * Leases for processes that share one SQLite file. Each operation is one `BEGIN IMMEDIATE`
 * transaction, so the database's write lock makes read-decide-update atomic across processes;
 * the clock is this host's, which every sharing process reads. The decisions themselves are
 * `lease-transitions.ts`, run on the row read inside the transaction.
 */
export function sqliteLeases(table: string) {
  let sql: Statements | undefined
  const statements = (): Statements => sql!

  // The bodies of the read-decide-update operations; wrapped in transactions once, at
  // prepare time (re-creating better-sqlite3's wrapper per call was 3% of a report's CPU).
  const claimBody = (installationId: string, options: OneClaimOptions) => {
    const row = statements().readForClaim.get(installationId) as ClaimRow | undefined
    if (!row) return { status: 'unknown' as const }
    const now = Date.now()
    const [envelope, tokenType, tokenState, tokenGeneration, pending, lastTimestamp] = row
    // Only the record fields a claim reads (lease-transitions.ts `claimLease`).
    const record = {
      tokenType,
      tokenState,
      tokenGeneration,
      pending: pending === 1,
      lastTimestamp,
    } as InstallationRecord
    const fields: LeaseFields = {
      pendingSeq: row[6],
      leaseOwner: row[7],
      leaseUntil: row[8],
      lastClaimedAt: row[9],
      schedAt: row[10],
      pendingMarkedAt: null, // not read by a claim
    }
    const claim = claimLease(record, fields, options, envelope, now)
    if (claim.status === 'claimed') {
      // last_timestamp is unchanged unless the claim reserved the next report's timestamp.
      statements().takeLease.run(
        fields.leaseOwner,
        fields.leaseUntil,
        now,
        now,
        record.lastTimestamp,
        installationId,
      )
    }
    return claim
  }
  // A page of claims in one transaction: one write lock and one commit instead of one each.
  const claimManyBody = (
    claims: Parameters<BackendLeases['claimMany']>[0],
    options: Parameters<BackendLeases['claimMany']>[1],
  ) => {
    // One options object for the chunk: a claim reads `token` only while it runs.
    const each = { ...options, token: '' }
    return claims.map(({ installationId, token }) => {
      each.token = token
      return claimBody(installationId, each)
    })
  }
  const renewBody = (held: Parameters<BackendLeases['renew']>[0], leaseMs: number) => {
    const until = Date.now() + leaseMs
    return held
      .filter(
        (lease) => statements().renew.run(until, lease.installationId, lease.token).changes > 0,
      )
      .map((lease) => lease.token)
  }
  const reserveBody = (olderThanMs: number, reserveMs: number, limit: number) => {
    const now = Date.now()
    const ids = statements().listDue.all(now, now - olderThanMs, limit) as string[]
    for (const id of ids) statements().reserve.run(now + reserveMs - olderThanMs, id)
    return ids
  }
  let tx:
    | {
        claim: { immediate: typeof claimBody }
        claimMany: { immediate: typeof claimManyBody }
        renew: { immediate: typeof renewBody }
        reserve: { immediate: typeof reserveBody }
      }
    | undefined

  const backend: BackendLeases = {
    claim: (installationId, options) => tx!.claim.immediate(installationId, options),
    claimMany: (claims, options) => tx!.claimMany.immediate(claims, options),
    renew: (held, leaseMs) => tx!.renew.immediate(held, leaseMs),
    release({ installationId, token }) {
      statements().release.run(installationId, token)
    },
    listAbandoned(limit) {
      return statements().listAbandoned.all(Date.now(), limit) as string[]
    },
    listUnattended({ retryFailedAfterMs, pendingForMs = 0, limit }) {
      const now = Date.now()
      return statements().listUnattended.all({
        now,
        retry: retryFailedAfterMs,
        marked: now - pendingForMs,
        limit,
      }) as string[]
    },
    reserveDue: (olderThanMs, reserveMs, limit) =>
      tx!.reserve.immediate(olderThanMs, reserveMs, limit),
  }

  return {
    backend,
    prepare(opened: SqliteDatabase) {
      sql = prepareStatements(opened, table)
      tx = {
        claim: opened.transaction(claimBody),
        claimMany: opened.transaction(claimManyBody),
        renew: opened.transaction(renewBody),
        reserve: opened.transaction(reserveBody),
      }
    },
  }
}

function prepareStatements(db: SqliteDatabase, table: string) {
  const t = `"${table}"`
  return {
    readForClaim: db
      .prepare(`
        SELECT token_envelope, token_type, token_state, token_generation, pending, last_timestamp,
          pending_seq, lease_owner, lease_until, last_claimed_at, sched_at
        FROM ${t} WHERE installation_id = ?`)
      .raw(),
    takeLease: db.prepare(`
      UPDATE ${t} SET lease_owner = ?, lease_until = ?, last_claimed_at = ?, sched_at = ?,
        last_timestamp = ?
      WHERE installation_id = ?`),
    renew: db.prepare(`
      UPDATE ${t} SET lease_until = ? WHERE installation_id = ? AND lease_owner = ?`),
    release: db.prepare(`
      UPDATE ${t} SET lease_owner = NULL, lease_until = NULL
      WHERE installation_id = ? AND lease_owner = ?`),
    listAbandoned: db
      .prepare(`
        SELECT installation_id FROM ${t}
        WHERE lease_owner IS NOT NULL AND lease_until <= ? AND token_state = 'active'
        ORDER BY lease_until, installation_id LIMIT ?`)
      .pluck(),
    // Pending rows through the pending index, plus abandoned leases through the lease index.
    listUnattended: db
      .prepare(`
        SELECT installation_id FROM (
          SELECT installation_id, pending_since FROM ${t}
          WHERE pending = 1 AND token_state = 'active'
            AND (lease_owner IS NULL OR lease_until <= @now)
            AND NOT (last_outcome = 'failed' AND COALESCE(last_claimed_at > @now - @retry, 0))
            AND COALESCE(pending_marked_at <= @marked, 1)
          UNION
          SELECT installation_id, pending_since FROM ${t}
          WHERE lease_owner IS NOT NULL AND lease_until <= @now AND token_state = 'active'
        ) ORDER BY pending_since, installation_id LIMIT @limit`)
      .pluck(),
    listDue: db
      .prepare(`
        SELECT installation_id FROM ${t}
        WHERE token_state = 'active' AND (lease_owner IS NULL OR lease_until <= ?)
          AND (sched_at IS NULL OR sched_at <= ?)
        ORDER BY sched_at, installation_id LIMIT ?`)
      .pluck(),
    reserve: db.prepare(`UPDATE ${t} SET sched_at = ? WHERE installation_id = ?`),
  }
}
