import { runStoreConformanceSuite } from '../testing/store-conformance.js'
import { type MemoryRow, memoryStore, memoryStoreOver, memoryStoreRows } from './memory-store.js'
import type { BalanceStore } from './store-types.js'

const rowsOf = (store: BalanceStore): Map<string, MemoryRow> => {
  const rows = memoryStoreRows(store)
  if (!rows) throw new Error('not a memory store')
  return rows
}

runStoreConformanceSuite('memoryStore', ({ encryptionKey }) => memoryStore({ encryptionKey }), {
  // "Reopening" hands the same rows to a new store, as a restart would with a persistent store.
  reopen: ({ encryptionKey, previous }) => memoryStoreOver(rowsOf(previous), { encryptionKey }),
  ciphertext: {
    read: (store, id) => rowsOf(store).get(id)?.envelope ?? null,
    write: (store, id, envelope) => {
      const row = rowsOf(store).get(id)
      if (row) row.envelope = envelope
    },
  },
})
