import { sqliteStore } from '../store/sqlite-store.js'
import { sqliteTestFiles } from '../store/sqlite-test-kit.js'
import { describeMultiReplicaSuite } from './multi-replica-suite.js'

// Processes on one host sharing one SQLite file: each replica opens its own connection.
describeMultiReplicaSuite('SQLite', () => {
  const files = sqliteTestFiles()
  const filename = files.nextFile()
  return {
    open: (encryptionKey) => sqliteStore({ filename, encryptionKey }),
    cleanup: async () => files.cleanup(),
  }
})
