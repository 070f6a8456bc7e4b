import { afterEach, beforeEach, type TestContext } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import type { BalanceStore, StoreLeases, StoreWrite } from '../store/store-types.js'

export interface StoreConformanceContext {
  /** A fresh 32-byte base64 key for the store under test. */
  encryptionKey: string
}

export type MakeStore = (ctx: StoreConformanceContext) => Promise<BalanceStore> | BalanceStore

export interface StoreConformanceOptions {
  /**
   * Opens a new store over the same data as `previous` (already closed by the suite), with
   * `encryptionKey` (a key or a keyring string). Persistent stores should provide it: it enables
   * the persistence and key-rotation tests.
   */
  reopen?: (ctx: {
    encryptionKey: string
    previous: BalanceStore
  }) => Promise<BalanceStore> | BalanceStore
  /**
   * Raw access to a stored token envelope (the ciphertext column/value). Enables the tests that
   * tamper with ciphertext or copy it to another installation.
   */
  ciphertext?: {
    read(store: BalanceStore, installationId: string): Promise<string | null> | string | null
    write(store: BalanceStore, installationId: string, envelope: string): Promise<void> | void
  }
}

/** What each group of conformance tests works with; a fresh, initialised store per test. */
export interface ConformanceHarness {
  readonly store: BalanceStore
  readonly encryptionKey: string
  readonly options: StoreConformanceOptions
  /** Closes the current store and reopens its data with `encryptionKey` (needs `options.reopen`). */
  reopen(encryptionKey: string): Promise<BalanceStore>
}

/** A fixed epoch (ms) so records can be compared exactly. */
export const T0 = 1_700_000_000_000

export function createHarness(
  makeStore: MakeStore,
  options: StoreConformanceOptions,
): ConformanceHarness {
  let current: BalanceStore | undefined
  let encryptionKey = ''
  const opened: BalanceStore[] = []

  const track = async (store: BalanceStore) => {
    opened.push(store)
    await store.init()
    current = store
    return store
  }

  beforeEach(async () => {
    encryptionKey = generateEncryptionKey()
    await track(await makeStore({ encryptionKey }))
  })

  afterEach(async () => {
    // Stores may already be closed by a test; a second close must not fail the suite.
    for (const store of opened.splice(0)) await Promise.resolve(store.close()).catch(() => {})
    current = undefined
  })

  const currentStore = () => {
    if (!current) throw new Error('the store is only available inside a test')
    return current
  }

  return {
    get store() {
      return currentStore()
    },
    get encryptionKey() {
      return encryptionKey
    },
    options,
    async reopen(nextKey) {
      if (!options.reopen) throw new Error('reopen() needs options.reopen')
      const previous = currentStore()
      await previous.close()
      return track(await options.reopen({ encryptionKey: nextKey, previous }))
    },
  }
}

let tokenCounter = 0

/** A unique, recognisable token, so "the token is not in X" checks cannot pass by accident. */
export function uniqueToken(label = 'token'): string {
  tokenCounter += 1
  return `${label}_${tokenCounter}_${Math.random().toString(36).slice(2)}_${Date.now().toString(36)}`
}

export function markPending(installationId: string, at: number): StoreWrite {
  return { type: 'markPending', installationId, at }
}

export function reportStarted(installationId: string, at: number, timestamp?: string): StoreWrite {
  return {
    type: 'reportStarted',
    installationId,
    at,
    timestamp: timestamp ?? new Date(at).toISOString(),
  }
}

export function reportFinished(
  installationId: string,
  at: number,
  fields: Partial<Extract<StoreWrite, { type: 'reportFinished' }>> = {},
): StoreWrite {
  return {
    type: 'reportFinished',
    installationId,
    at,
    outcome: 'delivered',
    status: 201,
    clearPending: true,
    ...fields,
  }
}

/** Saves installations `ids` with tokens, one ms apart from `at`. Returns the tokens by id. */
export async function seed(
  store: BalanceStore,
  ids: readonly string[],
  at = T0,
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>()
  for (const [index, id] of ids.entries()) {
    const accessToken = uniqueToken(id)
    tokens.set(id, accessToken)
    await store.saveCredentials(id, { accessToken, tokenType: 'Bearer' }, at + index)
  }
  return tokens
}

/** Delivers (and clears) every given installation at `at`, so lists start from a clean slate. */
export async function settle(store: BalanceStore, ids: readonly string[], at: number) {
  await store.write(ids.map((id) => reportFinished(id, at)))
}

/** A rejection of the token's first generation (a 401 answer), as the reporter records it. */
export const rejectGeneration1 = (id: string, at: number) =>
  reportFinished(id, at, {
    outcome: 'rejected',
    status: 401,
    clearPending: false,
    tokenState: 'rejected',
    tokenGeneration: 1,
  })

/** The store's leases, or the test is skipped (with its reason) for a single-process store. */
export function leasesOf(h: ConformanceHarness, ctx: TestContext): StoreLeases {
  const { leases } = h.store
  if (!leases) ctx.skip(`the ${h.store.kind} store has no leases (single-process store)`)
  return leases!
}
