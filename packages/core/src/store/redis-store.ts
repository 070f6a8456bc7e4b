import { z } from 'zod'
import type { EncryptionKeyInput, Keyring } from '../crypto/keyring.js'
import { parseOptions } from '../parse-options.js'
import { createEncryptedStore } from './encrypted-store.js'
import { redisBackend } from './redis-backend.js'
import { loadRedisDriver, type RedisClient } from './redis-driver.js'
import type { BalanceStore } from './store-types.js'

export type { RedisClient } from './redis-driver.js'

interface RedisStoreCommonOptions {
  /** A 32-byte base64 key or a keyring (`id:key,…`). Redis never holds a plaintext token. */
  encryptionKey: EncryptionKeyInput | Keyring
  /**
   * Namespace of every key, as the hash tag `{keyPrefix}:…` (so all keys share one Redis Cluster
   * slot). Use one prefix per environment sharing a Redis. Default `prepaid-balances`.
   */
  keyPrefix?: string
}

export type RedisStoreOptions = RedisStoreCommonOptions &
  (
    | {
        /** e.g. `redis://:password@host:6379/0`; the store opens (and closes) its own connection. */
        url: string
        client?: never
      }
    | {
        /** Your own ioredis client; the store uses it and leaves it open on `close()`. */
        client: RedisClient
        url?: never
      }
  )

export const DEFAULT_REDIS_KEY_PREFIX = 'prepaid-balances'

const optionsSchema = z
  .object({
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    client: z
      .custom<RedisClient>(
        (v) => typeof v === 'object' && v !== null && typeof (v as RedisClient).call === 'function',
        { message: 'must be an ioredis client (an object with call())' },
      )
      .optional(),
    keyPrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9_.:-]{1,64}$/,
        'must be 1-64 characters: letters, digits and _ . : - (no braces: it becomes a hash tag)',
      )
      .optional(),
  })
  .refine((o) => (o.url === undefined) !== (o.client === undefined), {
    message: 'give exactly one of "url" and "client"',
    path: ['url'],
  })

/**
 * A store in Redis (on ioredis, an optional peer dependency: `npm install ioredis`), for partners
 * that run several replicas of their backend: every replica opens a store with the same
 * `keyPrefix`.
 *
 * - Nothing to create up front: keys appear as installations are saved.
 * - Replicas coordinate through leases kept by atomic Lua scripts (`store.leases`): at most one
 *   report in flight per installation across all of them; a crashed replica's work is taken over
 *   once its lease runs out; scheduled sweeps reserve installations atomically, so N replicas do
 *   not send N reports; lease and schedule times come from the Redis server's clock (`TIME`).
 * - Tokens are encrypted (AES-256-GCM) before they reach Redis, as in every store. Durability is
 *   Redis's: enable AOF (`appendonly yes`) if pending changes must survive a Redis restart.
 *
 * @example
 * const store = redisStore({
 *   url: process.env.REDIS_URL!,
 *   encryptionKey: process.env.BALANCES_ENCRYPTION_KEY!,
 * })
 * const reporter = createBalanceReporter({ store, getBalances })
 *
 * @example
 * // Sharing the app's ioredis client (the store leaves it open on close):
 * const store = redisStore({ client: redis, encryptionKey, keyPrefix: 'billing:vercel' })
 */
export function redisStore(options: RedisStoreOptions): BalanceStore {
  const { url, client, keyPrefix } = parseOptions(optionsSchema, options ?? {}, 'redisStore')
  // Load ioredis now (not on first use) so a missing driver fails at startup, with the fix.
  const Redis = url === undefined ? undefined : loadRedisDriver()
  const backend = redisBackend({
    openClient: () => {
      if (client) return client
      const own = new Redis!(url!)
      // Connection errors are retried by ioredis and surface as failing commands (ERR_STORE);
      // an unhandled 'error' event would only print noise.
      own.on('error', () => {})
      return own
    },
    ownsClient: client === undefined,
    keyPrefix: keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX,
  })
  return createEncryptedStore(backend, options.encryptionKey)
}
