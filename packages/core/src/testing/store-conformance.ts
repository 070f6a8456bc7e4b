import { describe } from 'vitest'
import { describeClaimManyConformance } from './store-conformance-claim-many.js'
import {
  createHarness,
  type MakeStore,
  type StoreConformanceOptions,
} from './store-conformance-harness.js'
import { describeLeaseConformance } from './store-conformance-leases.js'
import { describeListConformance } from './store-conformance-lists.js'
import { describeRecordConformance } from './store-conformance-records.js'
import { describeSecretConformance } from './store-conformance-secrets.js'
import { describeWriteConformance } from './store-conformance-writes.js'

export type {
  MakeStore,
  StoreConformanceContext,
  StoreConformanceOptions,
} from './store-conformance-harness.js'

/**
 * The contract every `BalanceStore` must meet, as a Vitest suite: records and token generations,
 * list order and paging, every `write()` rule, encryption at rest, tampering, persistence and key
 * rotation, and, for stores with `leases`, the multi-process coordination rules. Each test gets a fresh store from `makeStore` (called with a fresh key) and closes it
 * afterwards. Call it at the top level of a Vitest test file.
 *
 * @example
 * // my-store.test.ts
 * import { runStoreConformanceSuite } from '@prepaid-balances/core/testing/store-conformance'
 *
 * runStoreConformanceSuite('myStore', ({ encryptionKey }) => myStore({ url, encryptionKey }), {
 *   reopen: ({ encryptionKey }) => myStore({ url, encryptionKey }),
 *   ciphertext: {
 *     read: (_store, id) => readTokenColumn(id),
 *     write: (_store, id, envelope) => writeTokenColumn(id, envelope),
 *   },
 * })
 */
export function runStoreConformanceSuite(
  name: string,
  makeStore: MakeStore,
  options: StoreConformanceOptions = {},
): void {
  describe(`BalanceStore conformance: ${name}`, () => {
    const harness = createHarness(makeStore, options)
    describeRecordConformance(harness)
    describeListConformance(harness)
    describeWriteConformance(harness)
    describeSecretConformance(harness)
    describeLeaseConformance(harness)
    describeClaimManyConformance(harness)
  })
}
