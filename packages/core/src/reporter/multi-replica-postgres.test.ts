import { describe } from 'vitest'
import { postgresStore } from '../store/postgres-store.js'
import {
  dropTables,
  findTestPostgres,
  openTestPool,
  uniqueTableName,
} from '../store/postgres-test-kit.js'
import { describeMultiReplicaSuite } from './multi-replica-suite.js'

const url = await findTestPostgres()

describe.skipIf(!url)('PostgreSQL', () => {
  // Each replica opens its own pool on one table, as separate processes would.
  describeMultiReplicaSuite('PostgreSQL', () => {
    const tableName = uniqueTableName('replicas')
    return {
      open: (encryptionKey) =>
        postgresStore({ connectionString: url!, encryptionKey, tableName, poolSize: 4 }),
      async cleanup() {
        const pool = openTestPool(url!, 1)
        await dropTables(pool, [tableName])
        await pool.end()
      },
    }
  })
})
