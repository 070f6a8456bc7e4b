import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { sqliteStore } from './sqlite-store.js'
import { sqliteTestFiles } from './sqlite-test-kit.js'
import type { StoreWrite } from './store-types.js'

const files = sqliteTestFiles()
afterAll(() => files.cleanup())

const T0 = 1_700_000_000_000
const driverPath = createRequire(import.meta.url).resolve('better-sqlite3')

/**
 * Another process that takes the database's write lock (BEGIN IMMEDIATE), says "locked", and
 * commits after `holdMs` or when it reads a line on stdin, whichever comes first.
 */
function lockHolder(filename: string, holdMs: number): ChildProcess {
  const script = `
    const Database = require(${JSON.stringify(driverPath)})
    const db = new Database(${JSON.stringify(filename)})
    db.exec('BEGIN IMMEDIATE')
    process.stdout.write('locked\\n')
    const release = () => { db.exec('COMMIT'); db.close(); process.exit(0) }
    setTimeout(release, ${holdMs})
    process.stdin.once('data', release)
  `
  return spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

async function startLockHolder(filename: string, holdMs: number): Promise<ChildProcess> {
  const child = lockHolder(filename, holdMs)
  children.push(child)
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer]
  expect(chunk.toString()).toBe('locked\n')
  return child
}

describe('sqliteStore shared by several connections', () => {
  it('two stores on one file write concurrently and see each other’s writes', async () => {
    const filename = files.nextFile()
    const encryptionKey = generateEncryptionKey()
    const a = sqliteStore({ filename, encryptionKey })
    const b = sqliteStore({ filename, encryptionKey })
    const ids = Array.from({ length: 40 }, (_, i) => `icfg_${String(i).padStart(2, '0')}`)
    await Promise.all(
      ids.map((id, i) => (i % 2 ? a : b).saveCredentials(id, { accessToken: `token-${id}` }, T0)),
    )
    const started = (store: 'a' | 'b', round: number): StoreWrite[] =>
      ids.map((installationId) => ({
        type: 'reportStarted',
        installationId,
        timestamp: `${store}-${round}`,
        at: T0 + round,
      }))
    const rounds = Array.from({ length: 10 }, (_, round) => round + 1)
    await Promise.all(
      rounds.flatMap((round) => [a.write(started('a', round)), b.write(started('b', round))]),
    )
    for (const id of ids) {
      expect((await a.getCredentials(id))?.accessToken).toBe(`token-${id}`)
      expect((await b.getInstallation(id))?.lastAttemptAt).toBe(T0 + 10)
    }
    expect(await a.listInstallationIds({ limit: 100 })).toEqual(ids)
    await Promise.all([a.close(), b.close()])
  })

  it('waits (busy_timeout) for another process that holds the write lock', async () => {
    const filename = files.nextFile()
    const store = sqliteStore({ filename, encryptionKey: generateEncryptionKey() })
    await store.saveCredentials('icfg_a', { accessToken: 'token-a' }, T0)
    const child = await startLockHolder(filename, 300)
    // Blocks in SQLite's busy handler until the other process commits, then succeeds.
    await store.write([{ type: 'markPending', installationId: 'icfg_a', at: T0 + 1 }])
    await store.saveCredentials('icfg_b', { accessToken: 'token-b' }, T0 + 2)
    expect(await store.listInstallationIds({ limit: 10 })).toEqual(['icfg_a', 'icfg_b'])
    await once(child, 'exit')
    await store.close()
  })

  it('fails with ERR_STORE, and succeeds on retry, when the lock outlasts busyTimeoutMs', async () => {
    const filename = files.nextFile()
    const store = sqliteStore({
      filename,
      encryptionKey: generateEncryptionKey(),
      busyTimeoutMs: 0,
    })
    await store.saveCredentials('icfg_a', { accessToken: 'token-a' }, T0)
    await store.write([
      {
        type: 'reportFinished',
        installationId: 'icfg_a',
        outcome: 'delivered',
        status: 201,
        clearPending: true,
        at: T0 + 1,
      },
    ])
    const child = await startLockHolder(filename, 20_000)
    const write: StoreWrite[] = [{ type: 'markPending', installationId: 'icfg_a', at: T0 + 2 }]
    await expect(store.write(write)).rejects.toMatchObject({
      code: 'ERR_STORE',
      message: /locked|busy/i,
    })
    expect((await store.getInstallation('icfg_a'))?.pending).toBe(false) // nothing half-applied
    child.stdin!.write('release\n')
    await once(child, 'exit')
    await store.write(write)
    expect((await store.getInstallation('icfg_a'))?.pending).toBe(true)
    await store.close()
  })
})
