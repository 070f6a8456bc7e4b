import { afterAll, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { memoryStore } from './memory-store.js'
import { postgresStore } from './postgres-store.js'
import { dropTables, findTestPostgres, openTestPool, uniqueTableName } from './postgres-test-kit.js'
import { planWrites } from './postgres-writes.js'
import type { BalanceStore, StoreWrite } from './store-types.js'

const at = 1_790_000_000_000
const started = (installationId: string, ms: number): StoreWrite => ({
  type: 'reportStarted',
  installationId,
  timestamp: new Date(at + ms).toISOString(),
  at: at + ms,
})
const finished = (installationId: string, ms: number): StoreWrite => ({
  type: 'reportFinished',
  installationId,
  outcome: 'delivered',
  status: 201,
  at: at + ms,
  clearPending: true,
})
const marked = (installationId: string, ms: number): StoreWrite => ({
  type: 'markPending',
  installationId,
  at: at + ms,
})

describe('planWrites', () => {
  it('sends a batch over distinct installations as one statement', () => {
    const batch = [started('a', 1), finished('b', 2), started('c', 3), marked('d', 4)]
    const statements = planWrites('t', batch)
    expect(statements).toHaveLength(1)
    expect(statements[0]!.text).toMatch(/^WITH w0 AS/)
    // Parameters renumbered: the fourth statement's first parameter follows all others.
    expect(statements[0]!.values).toHaveLength(3 + 9 + 3 + 2)
    expect(statements[0]!.text).toContain('$17::bigint[]')
  })

  it('keeps statements apart, in order, when an installation appears twice', () => {
    const statements = planWrites('t', [started('a', 1), finished('a', 2), started('b', 3)])
    expect(statements).toHaveLength(3)
    expect(statements.every((s) => !s.text.startsWith('WITH'))).toBe(true)
  })
})

const url = await findTestPostgres()

describe.skipIf(!url)('postgresStore write batches', () => {
  const pool = openTestPool(url!)
  const tables: string[] = []
  afterAll(async () => {
    await dropTables(pool, tables)
    await pool.end()
  })

  it('applies a mixed batch exactly as the memory store does', async () => {
    const table = uniqueTableName('writes')
    tables.push(table)
    const encryptionKey = generateEncryptionKey()
    const stores: BalanceStore[] = [
      memoryStore({ encryptionKey }),
      postgresStore({ pool, encryptionKey, tableName: table }),
    ]
    const ids = ['icfg_w_a', 'icfg_w_b', 'icfg_w_c', 'icfg_w_d']
    for (const store of stores) {
      await store.init()
      for (const id of ids) {
        await store.saveCredentials(id, { accessToken: `tok_${id}`, tokenType: 'Bearer' }, at)
      }
      await store.write([finished('icfg_w_d', 0)]) // d starts delivered, not pending
      await store.write([
        started('icfg_w_a', 1),
        finished('icfg_w_b', 2),
        started('icfg_w_c', 3),
        marked('icfg_w_d', 4),
      ])
    }
    const [reference, postgres] = await Promise.all(
      stores.map((store) => Promise.all(ids.map((id) => store.getInstallation(id)))),
    )
    expect(postgres).toEqual(reference)
    expect(postgres!.map((record) => record?.pending)).toEqual([true, false, true, true])
    expect(postgres![0]?.lastTimestamp).toBe(new Date(at + 1).toISOString())
    for (const store of stores) await store.close()
  })
})
