import { afterAll, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { loadRedisDriver } from './redis-driver.js'
import { redisStore } from './redis-store.js'
import { deletePrefixes, findTestRedis, openTestRedis, uniqueKeyPrefix } from './redis-test-kit.js'

const T0 = 1_700_000_000_000
const url = await findTestRedis()
const encryptionKey = generateEncryptionKey()

const attempt = (options: object) => {
  try {
    redisStore(options as never)
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected redisStore() to throw')
}

describe('redisStore options', () => {
  it('refuses bad options at construction, naming the option', () => {
    expect(attempt({ encryptionKey })).toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: expect.stringContaining('exactly one of "url" and "client"'),
    })
    expect(attempt({ encryptionKey, url: 'http://localhost' }).message).toContain('option "url"')
    expect(attempt({ encryptionKey, url: 'redis://x', keyPrefix: 'a{b}' }).message).toContain(
      'option "keyPrefix"',
    )
    expect(attempt({ encryptionKey, client: {} }).message).toContain('option "client"')
  })

  it('says how to install ioredis when it is missing (ERR_STORE_DRIVER_MISSING)', () => {
    const missing = Object.assign(new Error("Cannot find module 'ioredis'"), {
      code: 'MODULE_NOT_FOUND',
    })
    expect(() =>
      loadRedisDriver(() => {
        throw missing
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_STORE_DRIVER_MISSING',
        message: expect.stringContaining('npm install ioredis'),
      }),
    )
  })
})

describe.skipIf(!url)('redisStore on a real server', () => {
  const client = openTestRedis(url!)
  const prefixes: string[] = []
  const nextPrefix = () => {
    const prefix = uniqueKeyPrefix('setup')
    prefixes.push(prefix)
    return prefix
  }
  afterAll(async () => {
    await deletePrefixes(client, prefixes)
    await client.quit()
  })

  it('keeps every key under its prefix as one hash tag, never a plaintext token', async () => {
    const keyPrefix = nextPrefix()
    const store = redisStore({ client, encryptionKey, keyPrefix })
    await store.saveCredentials('icfg_a', { accessToken: 'tok_very_secret' }, T0)
    await store.write([{ type: 'reportStarted', installationId: 'icfg_a', timestamp: 'x', at: T0 }])
    await store.leases!.claim('icfg_a', { token: 't', leaseMs: 60_000 })
    const [, keys] = (await client.call('SCAN', '0', 'MATCH', `*${keyPrefix}*`, 'COUNT', 1000)) as [
      string,
      string[],
    ]
    expect(keys.length).toBeGreaterThan(3)
    for (const key of keys) expect(key.startsWith(`{${keyPrefix}}:`)).toBe(true)
    const hash = await client.call('HGETALL', `{${keyPrefix}}:i:icfg_a`)
    expect(JSON.stringify(hash)).not.toContain('tok_very_secret')
    await store.close()
  })

  it('isolates stores with different prefixes on one server', async () => {
    const a = redisStore({ client, encryptionKey, keyPrefix: nextPrefix() })
    const b = redisStore({ client, encryptionKey, keyPrefix: nextPrefix() })
    await a.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    expect(await b.getInstallation('icfg_a')).toBeNull()
    expect(await b.listInstallationIds({ limit: 10 })).toEqual([])
    await Promise.all([a.close(), b.close()])
  })

  it('leaves a client it was given open on close, and quits a connection it opened', async () => {
    const keyPrefix = nextPrefix()
    const given = redisStore({ client, encryptionKey, keyPrefix })
    await given.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    await given.close()
    await expect(client.call('PING')).resolves.toBe('PONG')

    const own = redisStore({ url: url!, encryptionKey, keyPrefix })
    expect((await own.getCredentials('icfg_a'))?.accessToken).toBe('tok_a')
    await own.close()
    await expect(own.getInstallation('icfg_a')).rejects.toMatchObject({ code: 'ERR_STORE' })
  })

  it('works again after the server forgets its cached scripts (SCRIPT FLUSH)', async () => {
    const store = redisStore({ client, encryptionKey, keyPrefix: nextPrefix() })
    await store.saveCredentials('icfg_a', { accessToken: 'tok_a' }, T0)
    await client.call('SCRIPT', 'FLUSH')
    await store.saveCredentials('icfg_b', { accessToken: 'tok_b' }, T0)
    expect(await store.listInstallationIds({ limit: 10 })).toEqual(['icfg_a', 'icfg_b'])
    await store.close()
  })
})
