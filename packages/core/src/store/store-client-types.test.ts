import type { Cluster, Redis } from 'ioredis'
import type { Pool } from 'pg'
import { describe, expectTypeOf, it } from 'vitest'
import type { PgPool, RedisClient } from '../index.js'

// The stores declare the few client methods they use instead of importing the drivers' types;
// the real clients must still fit, or `postgresStore({ pool })` would not compile for users.
describe('store client types', () => {
  it('a pg.Pool is a PgPool', () => {
    expectTypeOf<Pool>().toExtend<PgPool>()
  })

  it('an ioredis Redis or Cluster is a RedisClient', () => {
    expectTypeOf<Redis>().toExtend<RedisClient>()
    expectTypeOf<Cluster>().toExtend<RedisClient>()
  })
})
