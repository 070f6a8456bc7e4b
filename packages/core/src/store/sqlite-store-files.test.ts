import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { isPrepaidBalancesError } from '../errors.js'
import { sqliteStore } from './sqlite-store.js'
import { sqliteTestFiles } from './sqlite-test-kit.js'

const files = sqliteTestFiles()
afterAll(() => files.cleanup())

const T0 = 1_700_000_000_000

/** Every file SQLite keeps for a database: the main file, -wal and -shm. */
function bytesOnDisk(filename: string): Buffer[] {
  const base = filename.split('/').pop()!
  return readdirSync(files.dir)
    .filter((name) => name.startsWith(base))
    .map((name) => readFileSync(join(files.dir, name)))
}

describe('sqliteStore on disk', () => {
  it('never writes a plaintext token to the database, its WAL or shared-memory file', async () => {
    const filename = files.nextFile()
    const store = sqliteStore({ filename, encryptionKey: generateEncryptionKey() })
    const tokens = Array.from(
      { length: 20 },
      (_, i) => `vercel_tok_${i}_${Math.random().toString(36).slice(2)}`,
    )
    for (const [i, accessToken] of tokens.entries()) {
      await store.saveCredentials(`icfg_${i}`, { accessToken }, T0 + i)
    }
    await store.write(
      tokens.map((_, i) => ({ type: 'markPending', installationId: `icfg_${i}`, at: T0 + 100 })),
    )
    const check = (expectedFiles: number) => {
      const onDisk = bytesOnDisk(filename)
      expect(onDisk.length).toBe(expectedFiles)
      for (const bytes of onDisk) {
        for (const token of tokens) expect(bytes.includes(token)).toBe(false)
      }
      // The check would see a token if one were there: the installation ids are in plaintext.
      expect(onDisk.some((bytes) => bytes.includes('icfg_19'))).toBe(true)
    }
    check(3) // the database, its WAL and shared-memory index, before any checkpoint
    await store.close() // checkpoints the WAL into the main file and removes it
    check(1)
  })

  it('keeps state across a close and reopen, in WAL mode with integer times', async () => {
    const filename = files.nextFile()
    const encryptionKey = generateEncryptionKey()
    const first = sqliteStore({ filename, encryptionKey })
    await first.saveCredentials('icfg_a', { accessToken: 'secret-a' }, T0)
    await first.write([
      {
        type: 'reportStarted',
        installationId: 'icfg_a',
        timestamp: '2023-11-14T22:13:20.000Z',
        at: T0 + 1,
      },
    ])
    await first.close()

    const second = sqliteStore({ filename, encryptionKey })
    expect(await second.getCredentials('icfg_a')).toMatchObject({
      accessToken: 'secret-a',
      tokenGeneration: 1,
    })
    expect(await second.getInstallation('icfg_a')).toMatchObject({
      lastAttemptAt: T0 + 1,
      pending: true,
    })
    await second.close()

    const raw = files.open(filename)
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    const types = raw
      .prepare(
        `SELECT typeof(created_at) AS created, typeof(last_attempt_at) AS attempt, typeof(pending) AS pending
         FROM prepaid_balances_installations`,
      )
      .get()
    expect(types).toEqual({ created: 'integer', attempt: 'integer', pending: 'integer' })
    raw.close()
  })

  it('keeps stores with different table names in one file apart', async () => {
    const filename = files.nextFile()
    const encryptionKey = generateEncryptionKey()
    const live = sqliteStore({ filename, encryptionKey, tableName: 'live_balances' })
    const staging = sqliteStore({ filename, encryptionKey, tableName: 'staging_balances' })
    await live.saveCredentials('icfg_a', { accessToken: 'live-token' }, T0)
    await staging.saveCredentials('icfg_b', { accessToken: 'staging-token' }, T0)
    expect(await live.listInstallationIds({ limit: 10 })).toEqual(['icfg_a'])
    expect(await staging.listInstallationIds({ limit: 10 })).toEqual(['icfg_b'])
    expect(await live.getCredentials('icfg_b')).toBeNull()
    await Promise.all([live.close(), staging.close()])
    const raw = files.open(filename)
    const tables = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all()
    expect(tables).toEqual(['live_balances', 'staging_balances'])
    raw.close()
  })

  it.each(['drop table x; --', '1balances', 'sqlite_balances', 'a'.repeat(49), 'my-table', ''])(
    'rejects the table name %j with ERR_INVALID_OPTIONS',
    (tableName) => {
      const attempt = () =>
        sqliteStore({
          filename: files.nextFile(),
          encryptionKey: generateEncryptionKey(),
          tableName,
        })
      expect(attempt).toThrow(/tableName/)
      try {
        attempt()
      } catch (error) {
        expect(isPrepaidBalancesError(error, 'ERR_INVALID_OPTIONS')).toBe(true)
      }
    },
  )

  it('validates options and the key at construction, before touching the disk', () => {
    const filename = files.nextFile()
    const expectCode = (fn: () => unknown, code: string) => {
      try {
        fn()
      } catch (error) {
        expect(isPrepaidBalancesError(error) && error.code).toBe(code)
        return
      }
      throw new Error('expected a throw')
    }
    expectCode(
      () => sqliteStore({ filename: '', encryptionKey: generateEncryptionKey() }),
      'ERR_INVALID_OPTIONS',
    )
    expectCode(
      () => sqliteStore({ filename, encryptionKey: generateEncryptionKey(), busyTimeoutMs: -1 }),
      'ERR_INVALID_OPTIONS',
    )
    expectCode(() => sqliteStore({ filename, encryptionKey: 'too-short' }), 'ERR_ENCRYPTION_KEY')
    expect(existsSync(filename)).toBe(false)
  })

  it('fails init with ERR_STORE when the directory does not exist', async () => {
    const store = sqliteStore({
      filename: join(files.dir, 'missing', 'x.db'),
      encryptionKey: generateEncryptionKey(),
    })
    await expect(store.init()).rejects.toMatchObject({ code: 'ERR_STORE' })
    await store.close()
  })
})
