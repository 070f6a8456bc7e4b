import { createRequire } from 'node:module'

// pg and ioredis are development dependencies of the core package, resolved from there.
const fromCore = createRequire(new URL('../../../packages/core/package.json', import.meta.url))

export interface SqlPool {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  end(): Promise<void>
  on(event: 'error', listener: (error: Error) => void): unknown
}

export interface RedisConnection {
  call(command: string, ...args: Array<string | number>): Promise<unknown>
  on(event: 'error', listener: (error: Error) => void): unknown
  disconnect(): void
}

export function openPgPool(connectionString: string): SqlPool {
  const pg = fromCore('pg') as {
    Pool: new (config: { connectionString: string; max: number }) => SqlPool
  }
  const pool = new pg.Pool({ connectionString, max: 4 })
  pool.on('error', () => {})
  return pool
}

export function openRedis(url: string, options: Record<string, unknown> = {}): RedisConnection {
  const Redis = fromCore('ioredis') as new (
    url: string,
    options: Record<string, unknown>,
  ) => RedisConnection
  const client = new Redis(url, options)
  client.on('error', () => {})
  return client
}

/**
 * The servers this machine runs, as the core's own store tests find them (same env variables).
 * Returns the URL or a reason to skip. Under CI an unreachable server is an error instead.
 */
export async function findPostgres(): Promise<{ url: string } | { skip: string }> {
  const given = process.env.PREPAID_BALANCES_TEST_POSTGRES_URL
  const candidates = given
    ? [given]
    : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test']
  const failures: string[] = []
  for (const url of candidates) {
    const pool = openPgPool(url)
    try {
      await withTimeout(pool.query('SELECT 1'), 3_000)
      return { url }
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error))
    } finally {
      await pool.end().catch(() => {})
    }
  }
  return unreachable(`PostgreSQL is not reachable (${failures.join('; ')})`)
}

export async function findRedis(): Promise<{ url: string } | { skip: string }> {
  const url = process.env.PREPAID_BALANCES_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'
  const client = openRedis(url, {
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  })
  try {
    await withTimeout(client.call('PING'), 3_000)
    return { url }
  } catch (error) {
    return unreachable(
      `Redis is not reachable at ${url} (${error instanceof Error ? error.message : String(error)})`,
    )
  } finally {
    client.disconnect()
  }
}

function unreachable(reason: string): { skip: string } {
  if (process.env.CI) throw new Error(`${reason}; CI provides it on 127.0.0.1`)
  console.log(`[reliability] skipped: ${reason}`)
  return { skip: reason }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Every value under a Redis key pattern, as text, whatever the key types (SCAN, not KEYS). */
export async function dumpRedis(client: RedisConnection, pattern: string): Promise<string> {
  const parts: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = (await client.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 500)) as [
      string,
      string[],
    ]
    cursor = next
    for (const key of keys) {
      const type = (await client.call('TYPE', key)) as string
      const read: Record<string, () => Promise<unknown>> = {
        string: () => client.call('GET', key),
        hash: () => client.call('HGETALL', key),
        zset: () => client.call('ZRANGE', key, 0, -1, 'WITHSCORES'),
        set: () => client.call('SMEMBERS', key),
        list: () => client.call('LRANGE', key, 0, -1),
      }
      parts.push(key, JSON.stringify(await (read[type]?.() ?? Promise.resolve(`(${type})`))))
    }
  } while (cursor !== '0')
  return parts.join('\n')
}
