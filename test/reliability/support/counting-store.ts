import type { BalanceStore } from './packages.js'

/** Calls that change a store; a refused or invalid request must cause none of them. */
export interface StoreMutations {
  saveCredentials: number
  deleteInstallation: number
  /** `write()` calls with at least one write in the batch. */
  write: number
  reencryptAll: number
}

/** A store that counts its mutating calls and otherwise forwards to `inner`. */
export function countingStore(inner: BalanceStore): BalanceStore & { mutations: StoreMutations } {
  const mutations: StoreMutations = {
    saveCredentials: 0,
    deleteInstallation: 0,
    write: 0,
    reencryptAll: 0,
  }
  return {
    mutations,
    kind: inner.kind,
    init: () => inner.init(),
    saveCredentials: (...args) => {
      mutations.saveCredentials++
      return inner.saveCredentials(...args)
    },
    getCredentials: (id) => inner.getCredentials(id),
    getInstallation: (id) => inner.getInstallation(id),
    deleteInstallation: (id) => {
      mutations.deleteInstallation++
      return inner.deleteInstallation(id)
    },
    listInstallationIds: (options) => inner.listInstallationIds(options),
    listPending: (limit) => inner.listPending(limit),
    listDue: (before, limit) => inner.listDue(before, limit),
    write: (writes) => {
      if (writes.length > 0) mutations.write++
      return inner.write(writes)
    },
    reencryptAll: () => {
      mutations.reencryptAll++
      return inner.reencryptAll()
    },
    close: () => inner.close(),
  }
}

export const totalMutations = (m: StoreMutations) =>
  m.saveCredentials + m.deleteInstallation + m.write + m.reencryptAll
