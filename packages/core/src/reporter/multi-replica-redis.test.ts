import { describe } from 'vitest'
import { redisStore } from '../store/redis-store.js'
import {
  deletePrefixes,
  findTestRedis,
  openTestRedis,
  uniqueKeyPrefix,
} from '../store/redis-test-kit.js'
import { describeMultiReplicaSuite } from './multi-replica-suite.js'

const url = await findTestRedis()

describe.skipIf(!url)('Redis', () => {
  // Each replica opens its own connection with one key prefix, as separate processes would.
  describeMultiReplicaSuite('Redis', () => {
    const keyPrefix = uniqueKeyPrefix('replicas')
    return {
      open: (encryptionKey) => redisStore({ url: url!, encryptionKey, keyPrefix }),
      async cleanup() {
        const client = openTestRedis(url!)
        await deletePrefixes(client, [keyPrefix])
        await client.quit()
      },
    }
  })
})
