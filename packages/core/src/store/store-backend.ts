import type {
  HeldLease,
  InstallationRecord,
  LeaseBatchOptions,
  LeaseClaim,
  LeaseClaimOptions,
  ListOptions,
  StoreWrite,
  TokenState,
  UnattendedQuery,
} from './store-types.js'

export type MaybePromise<T> = T | Promise<T>

/** A stored token as the backend sees it: ciphertext only. */
export interface SealedCredentials {
  envelope: string
  tokenType: string
  tokenState: TokenState
  tokenGeneration: number
}

export interface EnvelopeRow {
  installationId: string
  envelope: string
}

export interface EnvelopeReplacement extends EnvelopeRow {
  /** The envelope read before re-encrypting; the row is only updated if it still holds it. */
  previous: string
}

/**
 * What a storage engine implements; `createEncryptedStore` turns it into a `BalanceStore`.
 * Backends never see a plaintext token, so every store encrypts identically and validation,
 * lazy init, the closed state and re-encryption live in one place. Methods may be sync (SQLite)
 * or async (network stores). The record semantics are those of `record-transitions.ts`.
 */
export interface StoreBackend {
  readonly kind: string
  init(): MaybePromise<void>
  saveCredentials(
    installationId: string,
    envelope: string,
    tokenType: string,
    at: number,
  ): MaybePromise<void>
  getSealedCredentials(installationId: string): MaybePromise<SealedCredentials | null>
  getInstallation(installationId: string): MaybePromise<InstallationRecord | null>
  deleteInstallation(installationId: string): MaybePromise<boolean>
  listInstallationIds(options: ListOptions): MaybePromise<string[]>
  listPending(limit: number): MaybePromise<string[]>
  listDue(before: number, limit: number): MaybePromise<string[]>
  write(writes: readonly StoreWrite[]): MaybePromise<void>
  /** Every installation's envelope (any token state), ascending by id, ids > `after`. */
  listEnvelopes(after: string | undefined, limit: number): MaybePromise<EnvelopeRow[]>
  /** Compare-and-set; returns how many rows were replaced. */
  replaceEnvelopes(replacements: readonly EnvelopeReplacement[]): MaybePromise<number>
  /** Multi-process coordination; see `StoreLeases` (same semantics, ciphertext only). */
  readonly leases?: BackendLeases
  close(): MaybePromise<void>
}

/** A `LeaseClaim` before decryption. */
export type SealedLeaseClaim =
  | {
      status: 'claimed'
      sealed: SealedCredentials
      pendingSeq: number
      lastTimestamp: string | null
      reservedTimestamp?: string
    }
  | Exclude<LeaseClaim, { status: 'claimed' }>

/** One installation's claim: `claim`'s options, or an entry of `claimMany` with the batch's. */
export type OneClaimOptions = LeaseClaimOptions & Pick<LeaseBatchOptions, 'reserveTimestamp'>

export interface BackendLeases {
  claim(installationId: string, options: LeaseClaimOptions): MaybePromise<SealedLeaseClaim>
  /** As `StoreLeases.claimMany`; the installation ids are distinct (the wrapper sees to it). */
  claimMany(
    claims: readonly HeldLease[],
    options: LeaseBatchOptions,
  ): MaybePromise<SealedLeaseClaim[]>
  renew(leases: readonly HeldLease[], leaseMs: number): MaybePromise<string[]>
  release(lease: HeldLease): MaybePromise<void>
  listAbandoned(limit: number): MaybePromise<string[]>
  listUnattended(query: UnattendedQuery): MaybePromise<string[]>
  reserveDue(olderThanMs: number, reserveMs: number, limit: number): MaybePromise<string[]>
}
