import type { EncryptionKeyInput, Keyring } from '../crypto/keyring.js'
import { createEncryptedStore } from './encrypted-store.js'
import {
  applyLeaseSideOfCredentialsSaved,
  applyLeaseSideOfWrite,
  type LeaseFields,
  newLeaseFields,
} from './lease-transitions.js'
import { byId, compareNullsFirst, leaseFieldsOf, memoryLeases } from './memory-leases.js'
import { forgetSortedIds, idsAfter } from './memory-sorted-ids.js'
import {
  applyCredentialsSaved,
  applyStoreWrite,
  newInstallationRecord,
} from './record-transitions.js'
import type { StoreBackend } from './store-backend.js'
import type { BalanceStore, InstallationRecord } from './store-types.js'

export interface MemoryStoreOptions {
  /** A 32-byte base64 key or a keyring (`id:key,…`); tokens stay encrypted even in memory. */
  encryptionKey: EncryptionKeyInput | Keyring
}

/** One installation as the memory store holds it (exported for tests only). */
export interface MemoryRow {
  record: InstallationRecord
  envelope: string
  /** Lease and change-counter fields; created on first use. */
  lease?: LeaseFields
}

const rowsByStore = new WeakMap<BalanceStore, Map<string, MemoryRow>>()

/**
 * A store that keeps everything in this process: for tests, demos and single-process setups that
 * can afford to lose pending changes on restart. Tokens are encrypted in memory too, so a heap
 * dump does not hand them out with the rest of the state.
 *
 * @example
 * const store = memoryStore({ encryptionKey: process.env.BALANCES_ENCRYPTION_KEY! })
 * const reporter = createBalanceReporter({ store, getBalances })
 */
export function memoryStore(options: MemoryStoreOptions): BalanceStore {
  return memoryStoreOver(new Map(), options)
}

/** A memory store over existing rows, e.g. to "reopen" one with another key in tests. */
export function memoryStoreOver(
  rows: Map<string, MemoryRow>,
  options: MemoryStoreOptions,
): BalanceStore {
  const store = createEncryptedStore(memoryBackend(rows), options?.encryptionKey)
  rowsByStore.set(store, rows)
  return store
}

/** The rows behind a memory store, for tests that inspect or tamper with ciphertext. */
export function memoryStoreRows(store: BalanceStore): Map<string, MemoryRow> | undefined {
  return rowsByStore.get(store)
}

/** The engine behind `memoryStore` (exported for the wrapper's tests). */
export function memoryBackend(rows: Map<string, MemoryRow>): StoreBackend {
  const activeRecords = () =>
    [...rows.values()].map((row) => row.record).filter((r) => r.tokenState === 'active')
  return {
    kind: 'memory',
    init() {},
    saveCredentials(installationId, envelope, tokenType, at) {
      const row = rows.get(installationId)
      if (row) {
        row.envelope = envelope
        applyLeaseSideOfCredentialsSaved(row.record, leaseFieldsOf(row), Date.now())
        applyCredentialsSaved(row.record, tokenType, at)
      } else {
        const lease = newLeaseFields()
        applyLeaseSideOfCredentialsSaved(undefined, lease, Date.now())
        rows.set(installationId, {
          envelope,
          record: newInstallationRecord(installationId, tokenType, at),
          lease,
        })
        forgetSortedIds(rows)
      }
    },
    getSealedCredentials(installationId) {
      const row = rows.get(installationId)
      if (!row) return null
      const { tokenType, tokenState, tokenGeneration } = row.record
      return { envelope: row.envelope, tokenType, tokenState, tokenGeneration }
    },
    getInstallation(installationId) {
      const row = rows.get(installationId)
      // A copy, so callers cannot change the store by mutating what they got.
      return row ? { ...row.record } : null
    },
    deleteInstallation(installationId) {
      forgetSortedIds(rows)
      return rows.delete(installationId)
    },
    listInstallationIds({ after, limit }) {
      return idsAfter(rows, after, limit, (id) => rows.get(id)!.record.tokenState === 'active')
    },
    listPending(limit) {
      return activeRecords()
        .filter((r) => r.pending)
        .sort((a, b) => compareNullsFirst(a.pendingSince, b.pendingSince) || byId(a, b))
        .slice(0, limit)
        .map((r) => r.installationId)
    },
    listDue(before, limit) {
      return activeRecords()
        .filter((r) => r.lastAttemptAt === null || r.lastAttemptAt < before)
        .sort((a, b) => compareNullsFirst(a.lastAttemptAt, b.lastAttemptAt) || byId(a, b))
        .slice(0, limit)
        .map((r) => r.installationId)
    },
    write(writes) {
      for (const write of writes) {
        const row = rows.get(write.installationId)
        if (row)
          applyStoreWrite(
            row.record,
            applyLeaseSideOfWrite(row.record, leaseFieldsOf(row), write, Date.now()),
          )
      }
    },
    listEnvelopes(after, limit) {
      return idsAfter(rows, after, limit, () => true).map((installationId) => ({
        installationId,
        envelope: rows.get(installationId)!.envelope,
      }))
    },
    replaceEnvelopes(replacements) {
      let replaced = 0
      for (const { installationId, previous, envelope } of replacements) {
        const row = rows.get(installationId)
        if (row?.envelope === previous) {
          row.envelope = envelope
          replaced += 1
        }
      }
      return replaced
    },
    // Several reporters in one process may share a memory store (tests, demos): they
    // coordinate through it like replicas through a database.
    leases: memoryLeases(rows),
    close() {},
  }
}
