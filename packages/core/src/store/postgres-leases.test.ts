import { afterAll, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { postgresStore } from './postgres-store.js'
import { dropTables, findTestPostgres, openTestPool, uniqueTableName } from './postgres-test-kit.js'

const url = await findTestPostgres()
const LONG = 60_000

describe.skipIf(!url)('postgresStore leases.claimMany', () => {
  const pool = openTestPool(url!)
  const table = uniqueTableName('claim_many')
  afterAll(async () => {
    await dropTables(pool, [table])
    await pool.end()
  })

  it('takes the free rows without waiting for one another transaction holds; claims that one once it is free', async () => {
    const store = postgresStore({ pool, encryptionKey: generateEncryptionKey(), tableName: table })
    const ids = ['icfg_a', 'icfg_b', 'icfg_c']
    for (const id of ids) await store.saveCredentials(id, { accessToken: `tok_${id}` }, 1)
    const blocker = await pool.connect()
    try {
      await blocker.query('BEGIN')
      await blocker.query(`SELECT 1 FROM "${table}" WHERE installation_id = 'icfg_b' FOR UPDATE`)
      let settled = false
      const batch = store
        .leases!.claimMany(
          ids.map((installationId) => ({ installationId, token: `t_${installationId}` })),
          { leaseMs: LONG },
        )
        .finally(() => {
          settled = true
        })
      // icfg_a and icfg_c are taken at once (read without claiming) while icfg_b waits.
      const owners = async () =>
        (
          await pool.query(
            `SELECT lease_owner FROM "${table}" WHERE installation_id <> 'icfg_b'
            ORDER BY installation_id`,
          )
        ).rows.map((row) => row.lease_owner as string | null)
      for (let tries = 0; (await owners()).join() !== 't_icfg_a,t_icfg_c'; tries++) {
        if (tries > 200) throw new Error(`never taken: ${(await owners()).join()}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect(settled).toBe(false)
      await blocker.query('COMMIT')
      expect((await batch).map((claim) => claim.status)).toEqual(['claimed', 'claimed', 'claimed'])
    } finally {
      await blocker.query('ROLLBACK').catch(() => {})
      blocker.release()
    }
  })

  it('reserves the timestamp of a row it had to wait for too, after what the other transaction stored', async () => {
    const reserving = `${table}_reserve`
    const store = postgresStore({
      pool,
      encryptionKey: generateEncryptionKey(),
      tableName: reserving,
    })
    const ids = ['icfg_a', 'icfg_b']
    for (const id of ids) await store.saveCredentials(id, { accessToken: `tok_${id}` }, 1)
    const from = Date.UTC(2030, 0, 1)
    const blocker = await pool.connect()
    try {
      await blocker.query('BEGIN')
      // Another process's report start for icfg_b, not yet committed when the batch runs.
      await blocker.query(
        `UPDATE "${reserving}" SET last_timestamp = '2030-01-01T00:00:05.000Z'
        WHERE installation_id = 'icfg_b'`,
      )
      const batch = store.leases!.claimMany(
        ids.map((installationId) => ({ installationId, token: `t_${installationId}` })),
        { leaseMs: LONG, reserveTimestamp: { from } },
      )
      const owner = async () =>
        (
          await pool.query(
            `SELECT lease_owner FROM "${reserving}" WHERE installation_id = 'icfg_a'`,
          )
        ).rows[0]?.lease_owner as string | null
      for (let tries = 0; (await owner()) !== 't_icfg_a'; tries++) {
        if (tries > 200) throw new Error('icfg_a never taken')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await blocker.query('COMMIT')
      expect(await batch).toMatchObject([
        { status: 'claimed', reservedTimestamp: '2030-01-01T00:00:00.000Z' },
        { status: 'claimed', reservedTimestamp: '2030-01-01T00:00:05.001Z' },
      ])
      const stored = await pool.query(
        `SELECT last_timestamp FROM "${reserving}" ORDER BY installation_id`,
      )
      expect(stored.rows.map((row) => row.last_timestamp)).toEqual([
        '2030-01-01T00:00:00.000Z',
        '2030-01-01T00:00:05.001Z',
      ])
    } finally {
      await blocker.query('ROLLBACK').catch(() => {})
      blocker.release()
      await dropTables(pool, [reserving])
    }
  })
})
