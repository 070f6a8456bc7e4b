import { createRequire } from 'node:module'
import type { RedisClient } from './redis-driver.js'

type TestRedis = RedisClient & {
  on(event: 'error', listener: (error: Error) => void): unknown
  disconnect(): void
}
const Redis = createRequire(import.meta.url)('ioredis') as new (
  url: string,
  options?: Record<string, unknown>,
) => TestRedis

/**
 * Test helpers for the Redis store: finds the server this machine runs (127.0.0.1:6379, or
 * `PREPAID_BALANCES_TEST_REDIS_URL`), and hands out unique key prefixes so parallel test files
 * never share keys. Without a server the tests skip with a printed reason, except under CI
 * (`CI` set), where an unreachable Redis fails the run.
 */
export async function findTestRedis(): Promise<string | null> {
  const url = process.env.PREPAID_BALANCES_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0'
  const client = openTestRedis(url, {
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  })
  try {
    await client.call('PING')
    return url
  } catch (error) {
    const reason = `Redis is not reachable at ${url} (${error instanceof Error ? error.message : String(error)})`
    if (process.env.CI) throw new Error(`${reason}. CI requires it: start Redis on 127.0.0.1:6379.`)
    console.warn(`[prepaid-balances] skipping Redis store tests: ${reason}`)
    return null
  } finally {
    client.disconnect()
  }
}

export function openTestRedis(url: string, options: Record<string, unknown> = {}): TestRedis {
  const client = new Redis(url, options)
  client.on('error', () => {})
  return client
}

let counter = 0

/** A key prefix no other test run or file uses (its keys are removed by `deletePrefixes`). */
export function uniqueKeyPrefix(label = 't'): string {
  const run = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 7)}`
  return `pbtest:${label}:${run}:${++counter}`
}

/** Deletes every key of the given prefixes (SCAN, not KEYS: the server may be shared). */
export async function deletePrefixes(client: RedisClient, prefixes: Iterable<string>) {
  for (const prefix of prefixes) {
    let cursor = '0'
    do {
      const [next, keys] = (await client.call(
        'SCAN',
        cursor,
        'MATCH',
        `{${prefix}}:*`,
        'COUNT',
        500,
      )) as [string, string[]]
      cursor = next
      if (keys.length > 0) await client.call('DEL', ...keys)
    } while (cursor !== '0')
  }
}
