import { NOW_MS } from './postgres-schema.js'
import type { StoreWrite } from './store-types.js'

export interface PgStatement {
  text: string
  values: unknown[]
}

type WriteOf<T extends StoreWrite['type']> = Extract<StoreWrite, { type: T }>

/**
 * Turns a batch of reporter writes into as few statements as keep their order: each run of
 * consecutive writes of one type over distinct installations becomes one `UPDATE … FROM
 * unnest(…)`. (A row is updated at most once per statement, hence distinct ids per run.) Each
 * statement mirrors one function of `record-transitions.ts` / `lease-transitions.ts`.
 *
 * When no installation appears in two runs, the order between runs does not matter and they
 * are sent as ONE statement (data-modifying CTEs): one round trip, atomic by itself, instead of
 * BEGIN, one per run and COMMIT. Batches of `reportAll` mix report starts and ends of different
 * installations; this kept a sweep over PostgreSQL from waiting on round trips.
 */
export function planWrites(table: string, writes: readonly StoreWrite[]): PgStatement[] {
  const statements: PgStatement[] = []
  let run: StoreWrite[] = []
  let ids = new Set<string>()
  const seen = new Set<string>()
  let disjoint = true
  const flush = () => {
    if (run.length > 0) statements.push(statementFor(table, run))
    run = []
    ids = new Set()
  }
  for (const write of writes) {
    if (run.length > 0 && (run[0]!.type !== write.type || ids.has(write.installationId))) flush()
    run.push(write)
    ids.add(write.installationId)
    if (seen.has(write.installationId)) disjoint = false
    seen.add(write.installationId)
  }
  flush()
  return disjoint && statements.length > 1 ? [asOneStatement(statements)] : statements
}

/** `WITH w0 AS (…), w1 AS (…) SELECT 1`, parameters renumbered; only for disjoint rows. */
function asOneStatement(statements: PgStatement[]): PgStatement {
  const values: unknown[] = []
  const parts = statements.map((statement, i) => {
    const offset = values.length
    values.push(...statement.values)
    // Table names are plain identifiers (checked at construction): `$n` only marks parameters.
    const text = statement.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
    return `w${i} AS (${text})`
  })
  return { text: `WITH ${parts.join(', ')} SELECT 1`, values }
}

function statementFor(table: string, run: StoreWrite[]): PgStatement {
  const ids = run.map((w) => w.installationId)
  const at = run.map((w) => w.at)
  switch (run[0]!.type) {
    case 'markPending':
      // Already pending and no lease: no row is written (see lease-transitions.ts).
      return {
        text: `
          UPDATE ${table} AS t SET pending_seq = t.pending_seq + 1,
            pending_since = CASE WHEN t.pending THEN t.pending_since ELSE w.at END,
            updated_at = CASE WHEN t.pending THEN t.updated_at ELSE w.at END,
            pending_marked_at = CASE WHEN t.pending THEN t.pending_marked_at ELSE ${NOW_MS} END,
            pending = true
          FROM unnest($1::text[], $2::bigint[]) AS w(id, at)
          WHERE t.installation_id = w.id AND (NOT t.pending OR t.lease_owner IS NOT NULL)`,
        values: [ids, at],
      }
    case 'reportStarted':
      return {
        text: `
          UPDATE ${table} AS t SET last_timestamp = w.ts, last_attempt_at = w.at, updated_at = w.at
          FROM unnest($1::text[], $2::text[], $3::bigint[]) AS w(id, ts, at)
          WHERE t.installation_id = w.id`,
        values: [ids, (run as WriteOf<'reportStarted'>[]).map((w) => w.timestamp), at],
      }
    case 'reportFinished': {
      const finished = run as WriteOf<'reportFinished'>[]
      // Pending is cleared only if no change was marked since the lease's claim; the token
      // state changes only for the generation named; the lease is freed only by its token.
      return {
        text: `
          UPDATE ${table} AS t SET last_outcome = w.outcome, last_status = w.status,
            last_attempt_at = w.at, updated_at = w.at,
            last_delivered_at = CASE WHEN w.outcome = 'delivered' THEN w.at
              ELSE t.last_delivered_at END,
            pending = CASE WHEN w.clear AND (w.seq IS NULL OR t.pending_seq = w.seq) THEN false
              ELSE t.pending END,
            pending_since = CASE WHEN w.clear AND (w.seq IS NULL OR t.pending_seq = w.seq) THEN NULL
              ELSE t.pending_since END,
            token_state = CASE WHEN w.state IS NOT NULL AND t.token_generation = w.generation
              THEN w.state ELSE t.token_state END,
            lease_owner = CASE WHEN t.lease_owner = w.lease THEN NULL ELSE t.lease_owner END,
            lease_until = CASE WHEN t.lease_owner = w.lease THEN NULL ELSE t.lease_until END
          FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::boolean[],
            $6::bigint[], $7::text[], $8::text[], $9::integer[])
            AS w(id, outcome, status, at, clear, seq, lease, state, generation)
          WHERE t.installation_id = w.id`,
        values: [
          ids,
          finished.map((w) => w.outcome),
          finished.map((w) => w.status ?? null),
          at,
          finished.map((w) => w.clearPending),
          finished.map((w) => w.lease?.pendingSeq ?? null),
          finished.map((w) => w.lease?.token ?? null),
          finished.map((w) => w.tokenState ?? null),
          finished.map((w) => w.tokenGeneration ?? null),
        ],
      }
    }
    default:
      throw new TypeError(`unknown store write type "${(run[0] as { type: unknown }).type}"`)
  }
}
