import { afterAll } from 'vitest'
import { runStoreConformanceSuite } from '../testing/store-conformance.js'
import { sqliteStore } from './sqlite-store.js'
import { sqliteTestFiles } from './sqlite-test-kit.js'
import type { BalanceStore } from './store-types.js'

const files = sqliteTestFiles()
afterAll(() => files.cleanup())

// Which file each store uses, so `reopen` and the ciphertext hooks find it.
const fileOf = new WeakMap<BalanceStore, string>()
const open = (filename: string, encryptionKey: string) => {
  const store = sqliteStore({ filename, encryptionKey })
  fileOf.set(store, filename)
  return store
}

runStoreConformanceSuite(
  'sqliteStore',
  ({ encryptionKey }) => open(files.nextFile(), encryptionKey),
  {
    reopen: ({ encryptionKey, previous }) => open(fileOf.get(previous)!, encryptionKey),
    ciphertext: {
      read: (store, id) => files.readEnvelope(fileOf.get(store)!, id),
      write: (store, id, envelope) => files.writeEnvelope(fileOf.get(store)!, id, envelope),
    },
  },
)
