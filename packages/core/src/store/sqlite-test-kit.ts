import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadSqliteDriver, type SqliteDatabase } from './sqlite-driver.js'
import { DEFAULT_TABLE_NAME } from './sqlite-schema.js'

/**
 * Test helpers for SQLite files: a temp directory per test file, and a second, raw connection to
 * a store's file for reading or tampering with what the store wrote (as an attacker with the file
 * would).
 */
export function sqliteTestFiles(prefix = 'prepaid-balances-sqlite-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const raw: SqliteDatabase[] = []
  let counter = 0
  return {
    dir,
    /** A fresh database path in the temp directory. */
    nextFile: () => join(dir, `store-${++counter}.db`),
    /** A raw better-sqlite3 connection (closed by `cleanup`). */
    open(filename: string): SqliteDatabase {
      const Driver = loadSqliteDriver()
      const db = new Driver(filename, { timeout: 5000 })
      raw.push(db)
      return db
    },
    readEnvelope(filename: string, installationId: string, table = DEFAULT_TABLE_NAME) {
      const db = this.open(filename)
      const row = db
        .prepare(`SELECT token_envelope FROM "${table}" WHERE installation_id = ?`)
        .pluck()
        .get(installationId) as string | undefined
      db.close()
      return row ?? null
    },
    writeEnvelope(filename: string, installationId: string, envelope: string) {
      const db = this.open(filename)
      db.prepare(
        `UPDATE "${DEFAULT_TABLE_NAME}" SET token_envelope = ? WHERE installation_id = ?`,
      ).run(envelope, installationId)
      db.close()
    },
    cleanup() {
      for (const db of raw) if (db.open) db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
