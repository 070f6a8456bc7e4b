import { afterAll, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { loadPgDriver } from './postgres-driver.js'
import { postgresStore } from './postgres-store.js'
import { dropTables, findTestPostgres, openTestPool, uniqueTableName } from './postgres-test-kit.js'

const T0 = 1_700_000_000_000
const url = await findTestPostgres()
const encryptionKey = generateEncryptionKey()

const attempt = (options: object) => {
  try {
    postgresStore(options as never)
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected postgresStore() to throw')
}

describe('postgresStore options', () => {
  it('refuses bad options at construction, naming the option', () => {
    expect(attempt({ encryptionKey })).toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: expect.stringContaining('exactly one of "connectionString" and "pool"'),
    })
    const both = attempt({
      encryptionKey,
      connectionString: 'postgres://x',
      pool: openTestPool('postgres://x'),
    })
    expect(both.message).toContain('exactly one of')
    expect(
      attempt({ encryptionKey, connectionString: 'postgres://x', tableName: 'x; DROP' }).message,
    ).toContain('option "tableName" must be a plain SQL identifier')
    expect(
      attempt({ encryptionKey, connectionString: 'postgres://x', schema: '1abc' }).message,
    ).toContain('option "schema"')
    expect(
      attempt({ encryptionKey, pool: { query() {}, connect() {} }, poolSize: 3 }).message,
    ).toContain('option "poolSize"')
  })

  it('says how to install pg when it is missing (ERR_STORE_DRIVER_MISSING)', () => {
    const missing = Object.assign(new Error("Cannot find module 'pg'"), {
      code: 'MODULE_NOT_FOUND',
    })
    expect(() =>
      loadPgDriver(() => {
        throw missing
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_STORE_DRIVER_MISSING',
        message: expect.stringContaining('npm install pg'),
        cause: missing,
      }),
    )
  })

  it('fails with ERR_STORE, naming the store, when the server is unreachable', async () => {
    const store = postgresStore({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      encryptionKey,
    })
    await expect(store.init()).rejects.toMatchObject({
      code: 'ERR_STORE',
      message: expect.stringContaining('The postgres store failed to init'),
    })
    await store.close()
  })
})

describe.skipIf(!url)('postgresStore on a real server', () => {
  const pool = openTestPool(url!)
  const tables: string[] = []
  const schemas: string[] = []
  const nextTable = () => {
    const table = uniqueTableName('setup')
    tables.push(table)
    return table
  }
  afterAll(async () => {
    await dropTables(pool, tables)
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await pool.end()
  })

  it('creates its table once when many replicas start at the same moment', async () => {
    const tableName = nextTable()
    const stores = Array.from({ length: 8 }, () =>
      postgresStore({ connectionString: url!, encryptionKey, tableName, poolSize: 1 }),
    )
    await Promise.all(stores.map((store) => store.init()))
    await stores[3]!.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    expect((await stores[6]!.getCredentials('icfg_a'))?.accessToken).toBe('tok_a')
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1',
      [tableName],
    )
    expect(rows[0]!.n).toBe(5) // primary key, due, pending, leases, sched
    await Promise.all(stores.map((store) => store.close()))
  })

  it('leaves a pool it was given open on close, and ends a pool it opened', async () => {
    const tableName = nextTable()
    const given = postgresStore({ pool, encryptionKey, tableName })
    await given.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    await given.close()
    await expect(pool.query('SELECT 1')).resolves.toBeTruthy()

    const own = postgresStore({ connectionString: url!, encryptionKey, tableName })
    expect((await own.getInstallation('icfg_a'))?.tokenGeneration).toBe(1)
    await own.close()
    await expect(own.getInstallation('icfg_a')).rejects.toMatchObject({ code: 'ERR_STORE' })
  })

  it('puts its table in the schema it is given, never a plaintext token', async () => {
    const schema = `pbtest_schema_${Math.random().toString(36).slice(2, 8)}`
    schemas.push(schema)
    await pool.query(`CREATE SCHEMA "${schema}"`)
    const store = postgresStore({ pool, encryptionKey, schema, tableName: 'balances' })
    await store.saveCredentials('icfg_a', { accessToken: 'tok_very_secret' }, T0)
    const { rows } = await pool.query(`SELECT * FROM "${schema}".balances`)
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain('tok_very_secret')
    await store.close()
  })
})
