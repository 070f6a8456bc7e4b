import { type MemoryRow, memoryStoreOver } from '../store/memory-store.js'
import { describeMultiReplicaSuite } from './multi-replica-suite.js'

// Reporters in one process may share a memory store: one set of rows, one handle each.
describeMultiReplicaSuite('memory', () => {
  const rows = new Map<string, MemoryRow>()
  return {
    open: (encryptionKey) => memoryStoreOver(rows, { encryptionKey }),
    cleanup: async () => rows.clear(),
  }
})
