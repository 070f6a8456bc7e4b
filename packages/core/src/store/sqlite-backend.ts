import type { SqliteDatabase, SqliteDriver } from './sqlite-driver.js'
import { RECORD_COLUMNS, schemaSql } from './sqlite-schema.js'
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
        opened.transaction(() => opened.exec(schemaSql(options.table))).immediate()
        sql = prepareStatements(opened, options.table)
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
      statements().saveCredentials.run(installationId, envelope, tokenType, at, at, at)
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
    close() {
      db?.close()
      db = undefined
      sql = undefined
    },
  }
}

function applyWrite(sql: Statements, write: StoreWrite): void {
  switch (write.type) {
    case 'markPending':
      sql.markPending.run(write.at, write.at, write.installationId)
      return
    case 'reportStarted':
      sql.reportStarted.run(write.timestamp, write.at, write.at, write.installationId)
      return
    case 'reportFinished':
      sql.reportFinished.run(
        write.outcome,
        write.status ?? null,
        write.at,
        write.at,
        write.outcome === 'delivered' ? write.at : null,
        write.clearPending ? 1 : 0,
        write.clearPending ? 1 : 0,
        write.tokenGeneration ?? null,
        write.tokenState ?? null,
        write.installationId,
      )
      return
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
        pending, pending_since, created_at, updated_at)
      VALUES (?, ?, ?, 'active', 1, 1, ?, ?, ?)
      ON CONFLICT (installation_id) DO UPDATE SET
        token_envelope = excluded.token_envelope, token_type = excluded.token_type,
        token_state = 'active', token_generation = token_generation + 1,
        pending_since = CASE WHEN pending = 1 THEN pending_since ELSE excluded.pending_since END,
        pending = 1, updated_at = excluded.updated_at`),
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
    // Already pending: a lookup, no write (see record-transitions.ts).
    markPending: db.prepare(`
      UPDATE ${t} SET pending_since = ?, pending = 1, updated_at = ?
      WHERE installation_id = ? AND pending = 0`),
    reportStarted: db.prepare(`
      UPDATE ${t} SET last_timestamp = ?, last_attempt_at = ?, updated_at = ?
      WHERE installation_id = ?`),
    // The token state changes only if the generation matches (NULL never does).
    reportFinished: db.prepare(`
      UPDATE ${t} SET last_outcome = ?, last_status = ?, last_attempt_at = ?, updated_at = ?,
        last_delivered_at = COALESCE(?, last_delivered_at),
        pending = CASE WHEN ? = 1 THEN 0 ELSE pending END,
        pending_since = CASE WHEN ? = 1 THEN NULL ELSE pending_since END,
        token_state = CASE WHEN token_generation = ? THEN COALESCE(?, token_state)
          ELSE token_state END
      WHERE installation_id = ?`),
    listEnvelopes: db.prepare(`
      SELECT installation_id AS installationId, token_envelope AS envelope FROM ${t}
      WHERE installation_id > ? ORDER BY installation_id LIMIT ?`),
    replaceEnvelope: db.prepare(`
      UPDATE ${t} SET token_envelope = ? WHERE installation_id = ? AND token_envelope = ?`),
  }
}
