import { afterAll, describe } from 'vitest'
import { runStoreConformanceSuite } from '../testing/store-conformance.js'
import { redisStore } from './redis-store.js'
import { deletePrefixes, findTestRedis, openTestRedis, uniqueKeyPrefix } from './redis-test-kit.js'
import type { BalanceStore } from './store-types.js'

const url = await findTestRedis()

describe.skipIf(!url)('redisStore', () => {
  const client = openTestRedis(url!)
  const prefixes: string[] = []
  afterAll(async () => {
    await deletePrefixes(client, prefixes)
    await client.quit()
  })

  // Which prefix each store uses, so `reopen` and the ciphertext hooks find it.
  const prefixOf = new WeakMap<BalanceStore, string>()
  const open = (keyPrefix: string, encryptionKey: string) => {
    const store = redisStore({ client, encryptionKey, keyPrefix })
    prefixOf.set(store, keyPrefix)
    return store
  }
  const next = () => {
    const prefix = uniqueKeyPrefix('conf')
    prefixes.push(prefix)
    return prefix
  }
  const hashKey = (store: BalanceStore, id: string) => `{${prefixOf.get(store)}}:i:${id}`

  runStoreConformanceSuite('redisStore', ({ encryptionKey }) => open(next(), encryptionKey), {
    reopen: ({ encryptionKey, previous }) => open(prefixOf.get(previous)!, encryptionKey),
    ciphertext: {
      read: async (store, id) =>
        (await client.call('HGET', hashKey(store, id), 'envelope')) as string | null,
      async write(store, id, envelope) {
        await client.call('HSET', hashKey(store, id), 'envelope', envelope)
      },
    },
  })
})
