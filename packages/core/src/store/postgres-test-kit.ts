import { createRequire } from 'node:module'
import type { PgPool } from './postgres-driver.js'

const pg = createRequire(import.meta.url)('pg') as {
  Pool: new (config: {
    connectionString: string
    max?: number
  }) => PgPool & {
    on(event: 'error', listener: (error: Error) => void): unknown
  }
}

/**
 * Test helpers for the PostgreSQL store: finds the server this machine runs (127.0.0.1:5432,
 * database `test`, or `PREPAID_BALANCES_TEST_POSTGRES_URL`), and hands out unique table names so
 * parallel test files never share a table.
 *
 * Without a server the tests skip with a printed reason, except under CI (`CI` set), where the
 * services are part of the contract and an unreachable one fails the run.
 */
export async function findTestPostgres(): Promise<string | null> {
  const given = process.env.PREPAID_BALANCES_TEST_POSTGRES_URL
  const candidates = given
    ? [given]
    : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test']
  const failures: string[] = []
  for (const url of candidates) {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    pool.on('error', () => {})
    try {
      await withTimeout(pool.query('SELECT 1'), 3000)
      return url
    } catch (error) {
      failures.push(`${redact(url)}: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      await pool.end().catch(() => {})
    }
  }
  const reason = `PostgreSQL is not reachable (${failures.join('; ')})`
  if (process.env.CI)
    throw new Error(`${reason}. CI requires it: start PostgreSQL on 127.0.0.1:5432.`)
  console.warn(`[prepaid-balances] skipping PostgreSQL store tests: ${reason}`)
  return null
}

export function openTestPool(url: string, max = 5) {
  const pool = new pg.Pool({ connectionString: url, max })
  pool.on('error', () => {})
  return pool
}

let counter = 0

/** A table name no other test run or file uses (dropped by `dropTables`). */
export function uniqueTableName(label = 't'): string {
  const run = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 7)}`
  return `pbtest_${label}_${run}_${++counter}`
}

export async function dropTables(pool: PgPool, tables: Iterable<string>): Promise<void> {
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS "${table}"`)
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
