import { afterAll, describe } from 'vitest'
import { runStoreConformanceSuite } from '../testing/store-conformance.js'
import { postgresStore } from './postgres-store.js'
import { dropTables, findTestPostgres, openTestPool, uniqueTableName } from './postgres-test-kit.js'
import type { BalanceStore } from './store-types.js'

const url = await findTestPostgres()

describe.skipIf(!url)('postgresStore', () => {
  const pool = openTestPool(url!)
  const tables: string[] = []
  afterAll(async () => {
    await dropTables(pool, tables)
    await pool.end()
  })

  // Which table each store uses, so `reopen` and the ciphertext hooks find it.
  const tableOf = new WeakMap<BalanceStore, string>()
  const open = (tableName: string, encryptionKey: string) => {
    const store = postgresStore({ pool, encryptionKey, tableName })
    tableOf.set(store, tableName)
    return store
  }
  const next = () => {
    const table = uniqueTableName('conf')
    tables.push(table)
    return table
  }

  runStoreConformanceSuite('postgresStore', ({ encryptionKey }) => open(next(), encryptionKey), {
    reopen: ({ encryptionKey, previous }) => open(tableOf.get(previous)!, encryptionKey),
    ciphertext: {
      async read(store, id) {
        const { rows } = await pool.query(
          `SELECT token_envelope FROM "${tableOf.get(store)}" WHERE installation_id = $1`,
          [id],
        )
        return (rows[0]?.token_envelope as string | undefined) ?? null
      },
      async write(store, id, envelope) {
        await pool.query(
          `UPDATE "${tableOf.get(store)}" SET token_envelope = $2 WHERE installation_id = $1`,
          [id, envelope],
        )
      },
    },
  })
})
