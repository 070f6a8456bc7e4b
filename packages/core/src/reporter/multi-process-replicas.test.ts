import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { postgresStore } from '../store/postgres-store.js'
import {
  dropTables,
  findTestPostgres,
  openTestPool,
  uniqueTableName,
} from '../store/postgres-test-kit.js'
import { redisStore } from '../store/redis-store.js'
import {
  deletePrefixes,
  findTestRedis,
  openTestRedis,
  uniqueKeyPrefix,
} from '../store/redis-test-kit.js'
import { sqliteStore } from '../store/sqlite-store.js'
import { sqliteTestFiles } from '../store/sqlite-test-kit.js'
import type { BalanceStore } from '../store/store-types.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/index.js'
import { waitUntil } from './multi-replica-suite.js'

const fixture = fileURLToPath(new URL('./fixtures/replica.mjs', import.meta.url))
const [postgresUrl, redisUrl] = await Promise.all([findTestPostgres(), findTestRedis()])

interface Replica {
  proc: ChildProcess
  /** Sends changed installations; resolves once the replica has persisted them. */
  notify(ids: readonly string[]): Promise<void>
}

/** A replica process (see fixtures/replica.mjs), resolved once it is ready. */
async function startReplica(env: Record<string, string>): Promise<Replica> {
  const proc = spawn(process.execPath, [fixture], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  proc.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  const lines = createInterface({ input: proc.stdout! })
  const waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = []
  let exited: Error | null = null
  lines.on('line', (line) => waiting.shift()?.resolve(line))
  // One exit listener for the replica's life, not one per line awaited (those piled up).
  proc.once('exit', (code) => {
    exited = new Error(`replica exited (${code}): ${stderr}`)
    for (const waiter of waiting.splice(0)) waiter.reject(exited)
  })
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      if (exited) reject(exited)
      else waiting.push({ resolve, reject })
    })
  expect(await nextLine()).toBe('ready')
  return {
    proc,
    async notify(ids) {
      const answer = nextLine()
      proc.stdin!.write(`notify ${ids.join(',')}\n`)
      expect(await answer).toBe(`ok ${ids.length}`)
    },
  }
}

/** The partner's ledger, served to the replicas as their database would be. */
async function startLedger(cents: Map<string, number>): Promise<Server & { url: string }> {
  const server = createServer((req, res) => {
    res.end(String(cents.get(decodeURIComponent(req.url!.slice(1))) ?? 0))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(server, { url: `http://127.0.0.1:${port}` })
}

let cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

/**
 * Three replicas as separate processes over one store and one sandbox; many installations and
 * changes; one replica SIGKILLed midway, some of its accepted changes never repeated elsewhere.
 */
async function runThreeReplicas(store: BalanceStore, env: Record<string, string>) {
  const sandbox: VercelSandbox = await createVercelSandbox()
  const cents = new Map<string, number>()
  const ledger = await startLedger(cents)
  const replicas: Replica[] = []
  cleanup.push(async () => {
    for (const replica of replicas) replica.proc.kill('SIGKILL')
    await new Promise<void>((resolve) => ledger.close(() => resolve()))
    await sandbox.close()
  })

  const ids = Array.from({ length: 40 }, (_, i) => `icfg_mp_${String(i).padStart(2, '0')}`)
  for (const id of ids) {
    sandbox.addInstallation(id, { accessToken: `tok_${id}` })
    await store.saveCredentials(id, { accessToken: `tok_${id}` }, Date.now())
    cents.set(id, 0)
  }
  // Slow answers, so that reports overlap and the kill lands while some are in flight.
  sandbox.injectFault({ delayMs: 25, times: 1_000_000 })
  const childEnv = { ...env, API_URL: sandbox.url, LEDGER_URL: ledger.url }
  replicas.push(...(await Promise.all([0, 1, 2].map(() => startReplica(childEnv)))))

  const orphans = ids.slice(0, 10) // last changed on the replica that is killed
  for (let round = 0; round < 10; round++) {
    const alive = round < 5 ? replicas : replicas.slice(0, 2)
    const batches = alive.map(() => [] as string[])
    for (const id of ids) {
      if (round >= 5 && orphans.includes(id)) continue
      cents.set(id, cents.get(id)! + 1)
      const target =
        round === 4 && orphans.includes(id) ? 2 : Math.floor(Math.random() * alive.length)
      batches[target]!.push(id)
    }
    if (round === 4) {
      // The doomed replica's reports of these will hang until it is gone.
      for (const id of orphans) sandbox.injectFault({ installationId: id, delayMs: 400 })
    }
    await Promise.all(alive.map((replica, i) => replica.notify(batches[i]!)))
    if (round === 4) {
      // Killed while it holds leases and has requests in flight, its other changes unsent.
      const inFlight = () =>
        sandbox.requests.filter(
          (r) => orphans.includes(r.installationId!) && r.outcome === 'pending',
        )
      await waitUntil(() => inFlight().length > 0, 5000, 'the doomed replica to be sending')
      replicas[2]!.proc.kill('SIGKILL')
    }
    await new Promise((resolve) => setTimeout(resolve, 40))
  }

  const latest = (id: string) => sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents
  await waitUntil(() => ids.every((id) => latest(id) === cents.get(id)), 30_000, 'final balances')
  const stats = sandbox.stats()
  expect(stats.maxInFlightPerInstallation).toBe(1)
  expect(stats.timestampRegressions).toBe(0)
  for (const id of orphans) expect(latest(id)).toBe(5)
}

describe('three replica processes over one store, one of them killed', () => {
  it.skipIf(!postgresUrl)(
    'PostgreSQL: every final balance delivered, one request per installation at a time',
    async () => {
      const tableName = uniqueTableName('procs')
      const encryptionKey = generateEncryptionKey()
      const store = postgresStore({ connectionString: postgresUrl!, encryptionKey, tableName })
      cleanup.push(async () => {
        await store.close()
        const pool = openTestPool(postgresUrl!, 1)
        await dropTables(pool, [tableName])
        await pool.end()
      })
      await runThreeReplicas(store, {
        STORE: 'postgres',
        STORE_URL: postgresUrl!,
        TABLE_OR_PREFIX: tableName,
        KEY: encryptionKey,
      })
    },
    45_000,
  )

  it('SQLite (one file on this host): every final balance delivered, one request per installation at a time', async () => {
    const files = sqliteTestFiles()
    const filename = files.nextFile()
    const encryptionKey = generateEncryptionKey()
    const store = sqliteStore({ filename, encryptionKey })
    cleanup.push(async () => {
      await store.close()
      files.cleanup()
    })
    await runThreeReplicas(store, {
      STORE: 'sqlite',
      STORE_URL: filename,
      TABLE_OR_PREFIX: '',
      KEY: encryptionKey,
    })
  }, 45_000)

  it.skipIf(!redisUrl)(
    'Redis: every final balance delivered, one request per installation at a time',
    async () => {
      const keyPrefix = uniqueKeyPrefix('procs')
      const encryptionKey = generateEncryptionKey()
      const store = redisStore({ url: redisUrl!, encryptionKey, keyPrefix })
      cleanup.push(async () => {
        await store.close()
        const client = openTestRedis(redisUrl!)
        await deletePrefixes(client, [keyPrefix])
        await client.quit()
      })
      await runThreeReplicas(store, {
        STORE: 'redis',
        STORE_URL: redisUrl!,
        TABLE_OR_PREFIX: keyPrefix,
        KEY: encryptionKey,
      })
    },
    45_000,
  )
})
