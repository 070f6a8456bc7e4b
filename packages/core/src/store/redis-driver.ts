import { loadOptionalPeer, type RequireModule } from './optional-peer.js'

/**
 * The part of an ioredis client the store uses: the generic `call()`; declared here so the
 * public types do not depend on ioredis. An ioredis `Redis` (or `Cluster`) satisfies it.
 */
export interface RedisClient {
  call(command: string, ...args: Array<string | number>): Promise<unknown>
  quit(): Promise<unknown>
}

type IoRedisConstructor = new (
  url: string,
  options?: Record<string, unknown>,
) => RedisClient & { on(event: 'error', listener: (error: Error) => void): unknown }

/** Loads ioredis only when a store must open its own connection (an optional peer dependency). */
export function loadRedisDriver(requireModule?: RequireModule): IoRedisConstructor {
  const loaded = loadOptionalPeer('ioredis', 'redisStore', requireModule) as
    | IoRedisConstructor
    | { default?: IoRedisConstructor; Redis?: IoRedisConstructor }
  if (typeof loaded === 'function') return loaded
  return (loaded.Redis ?? loaded.default) as IoRedisConstructor
}
