import { inPgTransaction, type PgPool } from './postgres-driver.js'
import { postgresLeases } from './postgres-leases.js'
import {
  createSchema,
  NOW_MS,
  PG_RECORD_COLUMNS,
  PG_SEALED_COLUMNS,
  qualifiedName,
} from './postgres-schema.js'
import { planWrites } from './postgres-writes.js'
import type { EnvelopeRow, SealedCredentials, StoreBackend } from './store-backend.js'
import type { InstallationRecord } from './store-types.js'

export interface PostgresBackendOptions {
  /** Opens (or hands over) the pool on first use. */
  openPool(): PgPool
  /** Whether `close()` ends the pool (only a pool the store opened itself). */
  ownsPool: boolean
  table: string
  schema: string | undefined
}

/**
 * The PostgreSQL engine behind `postgresStore`. Single statements run on the pool (autocommit);
 * a `write()` batch that needs several statements runs them in one transaction on one client.
 */
export function postgresBackend(options: PostgresBackendOptions): StoreBackend {
  const t = qualifiedName(options.table, options.schema)
  let opened: PgPool | undefined
  const pool = (): PgPool => {
    if (!opened) opened = options.openPool()
    return opened
  }
  const rowsOf = async (text: string, values: unknown[]) => (await pool().query(text, values)).rows

  return {
    kind: 'postgres',
    async init() {
      await createSchema(pool(), options.table, options.schema)
    },
    async saveCredentials(installationId, envelope, tokenType, at) {
      // A new token: active, next generation, pending (keeping an older pendingSince), history kept.
      await pool().query(
        `INSERT INTO ${t} AS t (installation_id, token_envelope, token_type, token_state,
          token_generation, pending, pending_since, pending_seq, created_at, updated_at,
          pending_marked_at)
        VALUES ($1, $2, $3, 'active', 1, true, $4, 1, $4, $4, ${NOW_MS})
        ON CONFLICT (installation_id) DO UPDATE SET
          token_envelope = excluded.token_envelope, token_type = excluded.token_type,
          token_state = 'active', token_generation = t.token_generation + 1,
          pending_since = CASE WHEN t.pending THEN t.pending_since ELSE excluded.pending_since END,
          pending_marked_at = CASE WHEN t.pending THEN t.pending_marked_at
            ELSE excluded.pending_marked_at END,
          pending = true, pending_seq = t.pending_seq + 1, updated_at = excluded.updated_at`,
        [installationId, envelope, tokenType, at],
      )
    },
    async getSealedCredentials(installationId) {
      const [row] = await rowsOf(
        `SELECT ${PG_SEALED_COLUMNS} FROM ${t} WHERE installation_id = $1`,
        [installationId],
      )
      return (row as SealedCredentials | undefined) ?? null
    },
    async getInstallation(installationId) {
      const [row] = await rowsOf(
        `SELECT ${PG_RECORD_COLUMNS} FROM ${t} WHERE installation_id = $1`,
        [installationId],
      )
      return (row as InstallationRecord | undefined) ?? null
    },
    async deleteInstallation(installationId) {
      const deleted = await pool().query(`DELETE FROM ${t} WHERE installation_id = $1`, [
        installationId,
      ])
      return (deleted.rowCount ?? 0) > 0
    },
    async listInstallationIds({ after, limit }) {
      const rows = await rowsOf(
        `SELECT installation_id AS id FROM ${t}
        WHERE token_state = 'active' AND installation_id > $1 ORDER BY installation_id LIMIT $2`,
        [after ?? '', limit],
      )
      return rows.map((row) => row.id as string)
    },
    async listPending(limit) {
      const rows = await rowsOf(
        `SELECT installation_id AS id FROM ${t} WHERE pending AND token_state = 'active'
        ORDER BY pending_since, installation_id LIMIT $1`,
        [limit],
      )
      return rows.map((row) => row.id as string)
    },
    async listDue(before, limit) {
      const rows = await rowsOf(
        `SELECT installation_id AS id FROM ${t}
        WHERE token_state = 'active' AND (last_attempt_at IS NULL OR last_attempt_at < $1)
        ORDER BY last_attempt_at NULLS FIRST, installation_id LIMIT $2`,
        [before, limit],
      )
      return rows.map((row) => row.id as string)
    },
    async write(writes) {
      const statements = planWrites(t, writes)
      if (statements.length === 1) {
        await pool().query(statements[0]!.text, statements[0]!.values)
        return
      }
      await inPgTransaction(pool(), async (client) => {
        for (const { text, values } of statements) await client.query(text, values)
      })
    },
    async listEnvelopes(after, limit) {
      const rows = await rowsOf(
        `SELECT installation_id AS "installationId", token_envelope AS envelope FROM ${t}
        WHERE installation_id > $1 ORDER BY installation_id LIMIT $2`,
        [after ?? '', limit],
      )
      return rows as unknown as EnvelopeRow[]
    },
    async replaceEnvelopes(replacements) {
      const replaced = await pool().query(
        `UPDATE ${t} AS t SET token_envelope = r.envelope
        FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, previous, envelope)
        WHERE t.installation_id = r.id AND t.token_envelope = r.previous`,
        [
          replacements.map((r) => r.installationId),
          replacements.map((r) => r.previous),
          replacements.map((r) => r.envelope),
        ],
      )
      return replaced.rowCount ?? 0
    },
    leases: postgresLeases(pool, t),
    async close() {
      if (opened && options.ownsPool) await opened.end()
      opened = undefined
    },
  }
}
