import type { SqliteDatabase, SqliteDriver } from './sqlite-driver.js'
import { sqliteLeases } from './sqlite-leases.js'
import { LEASE_COLUMNS, leaseIndexSql, RECORD_COLUMNS, schemaSql } from './sqlite-schema.js'
import type { SealedCredentials, StoreBackend } from './store-backend.js'
import type { InstallationRecord, StoreWrite } from './store-types.js'

export interface SqliteBackendOptions {
  driver: SqliteDriver
  filename: string
  table: string
  busyTimeoutMs: number
}

type Statements = ReturnType<typeof prepareStatements>

/**
 * The SQLite engine behind `sqliteStore`. Every statement mirrors one function of
 * `record-transitions.ts`; each is prepared once, and `write()` runs a whole batch in one
 * `BEGIN IMMEDIATE` transaction (one commit per batch; IMMEDIATE so a second process waits on
 * `busy_timeout` instead of failing a read-to-write lock upgrade).
 */
export function sqliteBackend(options: SqliteBackendOptions): StoreBackend {
  let db: SqliteDatabase | undefined
  let sql: Statements | undefined
  let applyWrites: ((writes: readonly StoreWrite[]) => void) | undefined

  const statements = (): Statements => sql!
  const leases = sqliteLeases(options.table)

  return {
    kind: 'sqlite',
    init() {
      if (db) return
      const opened = new options.driver(options.filename, { timeout: options.busyTimeoutMs })
      try {
        // WAL lets readers and one writer work at once, across processes on this host.
        // synchronous=NORMAL: commits survive a process crash (SIGKILL); a power loss may lose
        // the last few commits (they are not fsync'd one by one).
        opened.pragma('journal_mode = WAL')
        opened.pragma('synchronous = NORMAL')
        // Random-row updates touch one page each; keep ~100k installations' pages in memory,
        // and checkpoint every ~16 MB of WAL instead of 4 MB: a page changed by many commits is
        // copied back (and fsync'd) once per checkpoint, which measured ~30% cheaper per write.
        opened.pragma('cache_size = -32768')
        opened.pragma('wal_autocheckpoint = 4000')
        opened.transaction(() => migrate(opened, options.table)).immediate()
        sql = prepareStatements(opened, options.table)
        leases.prepare(opened)
        applyWrites = opened.transaction((writes: readonly StoreWrite[]) => {
          for (const write of writes) applyWrite(sql!, write)
        }).immediate
        db = opened
      } catch (error) {
        opened.close()
        throw error
      }
    },
    saveCredentials(installationId, envelope, tokenType, at) {
      statements().saveCredentials.run(installationId, envelope, tokenType, at, at, at, Date.now())
    },
    getSealedCredentials(installationId) {
      return (statements().getSealed.get(installationId) as SealedCredentials | undefined) ?? null
    },
    getInstallation(installationId) {
      const row = statements().getRecord.get(installationId) as
        | (Omit<InstallationRecord, 'pending'> & { pending: number })
        | undefined
      return row ? { ...row, pending: row.pending === 1 } : null
    },
    deleteInstallation(installationId) {
      return statements().deleteRow.run(installationId).changes > 0
    },
    listInstallationIds({ after, limit }) {
      return statements().listIds.all(after ?? '', limit) as string[]
    },
    listPending(limit) {
      return statements().listPending.all(limit) as string[]
    },
    listDue(before, limit) {
      // Two index range scans instead of one `IS NULL OR <` filter, which SQLite would answer by
      // walking the whole index whenever fewer than `limit` rows are due.
      const never = statements().listNeverAttempted.all(limit) as string[]
      if (never.length >= limit) return never
      const due = statements().listAttemptedBefore.all(before, limit - never.length) as string[]
      return never.length === 0 ? due : never.concat(due)
    },
    write(writes) {
      applyWrites!(writes)
    },
    listEnvelopes(after, limit) {
      return statements().listEnvelopes.all(after ?? '', limit) as Array<{
        installationId: string
        envelope: string
      }>
    },
    replaceEnvelopes(replacements) {
      const { replaceEnvelope } = statements()
      const replaceAll = db!.transaction(() => {
        let replaced = 0
        for (const { installationId, previous, envelope } of replacements) {
          replaced += replaceEnvelope.run(envelope, installationId, previous).changes
        }
        return replaced
      })
      return replaceAll.immediate()
    },
    leases: leases.backend,
    close() {
      db?.close()
      db = undefined
      sql = undefined
    },
  }
}

/** Creates the table, or adds the lease columns to a table created before they existed. */
function migrate(db: SqliteDatabase, table: string): void {
  db.exec(schemaSql(table))
  const columns = db.pragma(`table_info("${table}")`) as Array<{ name: string }>
  const present = new Set(columns.map((column) => column.name))
  for (const [name, type] of LEASE_COLUMNS) {
    if (!present.has(name)) db.exec(`ALTER TABLE "${table}" ADD COLUMN ${name} ${type}`)
  }
  db.exec(leaseIndexSql(table))
}

function applyWrite(sql: Statements, write: StoreWrite): void {
  switch (write.type) {
    case 'markPending':
      sql.markPending.run(write.at, write.at, Date.now(), write.installationId)
      return
    case 'reportStarted':
      sql.reportStarted.run(write.timestamp, write.at, write.at, write.installationId)
      return
    case 'reportFinished': {
      const { lease, tokenState, clearPending } = write
      const seq = lease?.pendingSeq ?? null
      const deliveredAt = write.outcome === 'delivered' ? write.at : null
      const params: unknown[] = [
        write.outcome,
        write.status ?? null,
        write.at,
        write.at,
        deliveredAt,
      ]
      if (clearPending) params.push(seq, seq, seq, seq)
      if (tokenState) params.push(write.tokenGeneration ?? null, tokenState)
      params.push(lease?.token ?? null, lease?.token ?? null, write.installationId)
      sql.reportFinished[(clearPending ? 1 : 0) + (tokenState ? 2 : 0)]!.run(params)
      return
    }
    default:
      throw new TypeError(`unknown store write type "${(write as { type: unknown }).type}"`)
  }
}

function prepareStatements(db: SqliteDatabase, table: string) {
  const t = `"${table}"`
  return {
    // A new token: active, next generation, pending (keeping an older pendingSince), history kept.
    saveCredentials: db.prepare(`
      INSERT INTO ${t} (installation_id, token_envelope, token_type, token_state, token_generation,
        pending, pending_since, created_at, updated_at, pending_marked_at, pending_seq)
      VALUES (?, ?, ?, 'active', 1, 1, ?, ?, ?, ?, 1)
      ON CONFLICT (installation_id) DO UPDATE SET
        token_envelope = excluded.token_envelope, token_type = excluded.token_type,
        token_state = 'active', token_generation = token_generation + 1,
        pending_since = CASE WHEN pending = 1 THEN pending_since ELSE excluded.pending_since END,
        pending_marked_at = CASE WHEN pending = 1 THEN pending_marked_at
          ELSE excluded.pending_marked_at END,
        pending = 1, pending_seq = pending_seq + 1, updated_at = excluded.updated_at`),
    getSealed: db.prepare(`
      SELECT token_envelope AS envelope, token_type AS tokenType, token_state AS tokenState,
        token_generation AS tokenGeneration
      FROM ${t} WHERE installation_id = ?`),
    getRecord: db.prepare(`SELECT ${RECORD_COLUMNS} FROM ${t} WHERE installation_id = ?`),
    deleteRow: db.prepare(`DELETE FROM ${t} WHERE installation_id = ?`),
    listIds: db
      .prepare(`
        SELECT installation_id FROM ${t}
        WHERE token_state = 'active' AND installation_id > ? ORDER BY installation_id LIMIT ?`)
      .pluck(),
    listPending: db
      .prepare(`
        SELECT installation_id FROM ${t} WHERE pending = 1 AND token_state = 'active'
        ORDER BY pending_since, installation_id LIMIT ?`)
      .pluck(),
    listNeverAttempted: db
      .prepare(`
        SELECT installation_id FROM ${t} WHERE token_state = 'active' AND last_attempt_at IS NULL
        ORDER BY installation_id LIMIT ?`)
      .pluck(),
    listAttemptedBefore: db
      .prepare(`
        SELECT installation_id FROM ${t} WHERE token_state = 'active' AND last_attempt_at < ?
        ORDER BY last_attempt_at, installation_id LIMIT ?`)
      .pluck(),
    // Already pending and no lease: a lookup, no write (see lease-transitions.ts).
    markPending: db.prepare(`
      UPDATE ${t} SET pending_seq = pending_seq + 1,
        pending_since = CASE WHEN pending = 1 THEN pending_since ELSE ? END,
        updated_at = CASE WHEN pending = 1 THEN updated_at ELSE ? END,
        pending_marked_at = CASE WHEN pending = 1 THEN pending_marked_at ELSE ? END, pending = 1
      WHERE installation_id = ? AND (pending = 0 OR lease_owner IS NOT NULL)`),
    reportStarted: db.prepare(`
      UPDATE ${t} SET last_timestamp = ?, last_attempt_at = ?, updated_at = ?
      WHERE installation_id = ?`),
    // The token state changes only if the generation matches (NULL never does). Under a lease,
    // pending is cleared only if no change was marked since the claim, and the lease is freed.
    // Indexed by [clearPending, tokenState given]: a column left out of SET leaves the indexes
    // that read it untouched (SQLite rewrites every index whose columns are SET, changed or not).
    reportFinished: [0, 1, 2, 3].map((variant) =>
      db.prepare(reportFinishedSql(t, (variant & 1) === 1, variant >= 2)),
    ),
    listEnvelopes: db.prepare(`
      SELECT installation_id AS installationId, token_envelope AS envelope FROM ${t}
      WHERE installation_id > ? ORDER BY installation_id LIMIT ?`),
    replaceEnvelope: db.prepare(`
      UPDATE ${t} SET token_envelope = ? WHERE installation_id = ? AND token_envelope = ?`),
  }
}

/** `reportFinished` as positional parameters (binding an object of named ones costs more). */
function reportFinishedSql(t: string, clearPending: boolean, tokenState: boolean): string {
  const sets = [
    'last_outcome = ?, last_status = ?, last_attempt_at = ?, updated_at = ?',
    'last_delivered_at = COALESCE(?, last_delivered_at)',
  ]
  if (clearPending) {
    sets.push(
      'pending = CASE WHEN ? IS NULL OR pending_seq = ? THEN 0 ELSE pending END',
      'pending_since = CASE WHEN ? IS NULL OR pending_seq = ? THEN NULL ELSE pending_since END',
    )
  }
  if (tokenState) {
    sets.push('token_state = CASE WHEN token_generation = ? THEN ? ELSE token_state END')
  }
  sets.push(
    'lease_until = CASE WHEN lease_owner = ? THEN NULL ELSE lease_until END',
    'lease_owner = CASE WHEN lease_owner = ? THEN NULL ELSE lease_owner END',
  )
  return `UPDATE ${t} SET ${sets.join(',\n    ')}\n  WHERE installation_id = ?`
}
