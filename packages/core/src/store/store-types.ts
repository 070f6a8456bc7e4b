/**
 * The storage contract shared by every store (memory, SQLite, PostgreSQL, Redis).
 *
 * Stores hold, per installation: the access token (only ever as AES-256-GCM ciphertext, see
 * `crypto/`), the token's state, whether an unsent balance change is pending, and the history
 * needed to report on schedule and to keep `timestamp` monotonic across restarts.
 *
 * Writes from the reporter's hot path arrive in batches through `write()`, so a store can apply
 * many small changes in one transaction (one fsync) instead of one per `notify()`.
 */

/** Whether reports can be sent with the stored token. */
export type TokenState = 'active' | 'rejected' | 'gone'

/**
 * The result of one report (one or more HTTP attempts):
 * - `delivered`: Vercel answered 2xx.
 * - `rejected`: 401/403; the token is unusable until `saveInstallation` replaces it.
 * - `gone`: 404/410; Vercel no longer knows the installation.
 * - `invalid`: the body was refused (400) or `getBalances` returned something invalid.
 * - `failed`: transient failures outlasted the retry budget; the change stays pending.
 * - `skipped`: nothing was sent (no usable token, installation unknown, reporter closing).
 */
export type ReportOutcome = 'delivered' | 'rejected' | 'gone' | 'invalid' | 'failed' | 'skipped'

/** What a store knows about one installation. Never contains the token. */
export interface InstallationRecord {
  installationId: string
  tokenType: string
  tokenState: TokenState
  /** Incremented by every `saveCredentials`; lets a late 401 for an old token not reject a new one. */
  tokenGeneration: number
  /** True while a balance change has not yet been delivered (or permanently refused). */
  pending: boolean
  /** Epoch ms of the oldest undelivered change, or null. */
  pendingSince: number | null
  /**
   * The last `timestamp` sent to Vercel for this installation (ISO-8601), or reserved for a
   * report about to be sent (`claimMany` with `reserveTimestamp`), or null.
   */
  lastTimestamp: string | null
  /** Epoch ms of the last report attempt (any outcome), or null if never reported. */
  lastAttemptAt: number | null
  /** Epoch ms of the last `delivered` report, or null. */
  lastDeliveredAt: number | null
  lastOutcome: ReportOutcome | null
  /** HTTP status of the last report, if one was received. */
  lastStatus: number | null
  createdAt: number
  updatedAt: number
}

/** A decrypted token, handed only to the submitter. */
export interface StoredCredentials {
  accessToken: string
  tokenType: string
  tokenState: TokenState
  tokenGeneration: number
}

/** Batched writes from the reporter, applied in order (atomically where the store can). */
export type StoreWrite =
  | {
      /** A balance change was accepted: keep the installation pending until delivered. */
      type: 'markPending'
      installationId: string
      at: number
    }
  | {
      /** A report is about to be sent with this timestamp; persisted first so it never repeats. */
      type: 'reportStarted'
      installationId: string
      timestamp: string
      at: number
    }
  | {
      type: 'reportFinished'
      installationId: string
      outcome: ReportOutcome
      at: number
      status: number | null
      /** Clear `pending`: the delivered balances were read after the last accepted change. */
      clearPending: boolean
      /** Set the token state, but only if the token is still of `tokenGeneration`. */
      tokenState?: TokenState
      tokenGeneration?: number
      /**
       * The lease this report ran under (stores with `leases` only). The store releases it if
       * `token` still holds it, and clears `pending` only if no change was marked since the
       * claim (`pendingSeq` unchanged), so a change notified on another replica meanwhile stays
       * pending.
       */
      lease?: { token: string; pendingSeq: number }
    }

export interface ListOptions {
  /** Return ids strictly greater than this one (keyset paging, ascending by id). */
  after?: string
  limit: number
}

export interface BalanceStore {
  /** A short name for logs and errors, e.g. `sqlite`. */
  readonly kind: string
  /** Creates tables/keys if needed. Idempotent; the reporter calls it once before first use. */
  init(): Promise<void>
  /**
   * Stores (or replaces) an installation's token, encrypted. Resets the token state to `active`,
   * increments `tokenGeneration` and marks the installation pending so a first report follows.
   */
  saveCredentials(
    installationId: string,
    credentials: { accessToken: string; tokenType?: string },
    at: number,
  ): Promise<void>
  /** Decrypts the token; null if the installation is unknown. Throws ERR_DECRYPTION_FAILED on tampering. */
  getCredentials(installationId: string): Promise<StoredCredentials | null>
  getInstallation(installationId: string): Promise<InstallationRecord | null>
  /** Forgets the installation and its token. Returns false if it was unknown. */
  deleteInstallation(installationId: string): Promise<boolean>
  /** Installations with an active token, ascending by id. */
  listInstallationIds(options: ListOptions): Promise<string[]>
  /** Pending installations with an active token, oldest change first. */
  listPending(limit: number): Promise<string[]>
  /** Installations with an active token whose last attempt is older than `before` (or never), oldest first. */
  listDue(before: number, limit: number): Promise<string[]>
  /** Applies reporter writes in order. Writes for unknown installations are ignored. */
  write(writes: readonly StoreWrite[]): Promise<void>
  /** Re-encrypts every token still under an older key with the keyring's current key. */
  reencryptAll(): Promise<{ reencrypted: number }>
  /**
   * Present on stores that several processes can share (SQLite, PostgreSQL, Redis); the
   * reporter then coordinates through it. Absent on single-process stores.
   */
  readonly leases?: StoreLeases
  close(): Promise<void>
}

export interface UnattendedQuery {
  /**
   * Leave out installations whose last report `failed` less than this long after its claim:
   * they are retried on the sweep's cadence, not by every replica at once.
   */
  retryFailedAfterMs: number
  /**
   * Leave out pending installations marked pending less than this long ago (by the store's
   * clock): the replica that accepted the change is presumably about to report it. Default 0.
   */
  pendingForMs?: number
  limit: number
}

/** A lease as its holder knows it. */
export interface HeldLease {
  installationId: string
  /** Unique per claim: only the claim that took the lease can renew or release it. */
  token: string
}

export interface LeaseClaimOptions {
  token: string
  /** How long the lease lasts unless renewed, by the store's clock. */
  leaseMs: number
  /**
   * Omitted: claim whenever no live lease exists. Given: claim only if a report is owed, i.e.
   * a change is pending, or a crashed holder's lease expired unreleased, or (with `idleMs`) the
   * last claim is at least `idleMs` old.
   */
  onlyIf?: { pending: true; idleMs?: number }
}

/**
 * `claimMany`'s options: those of `claim`, with a token per installation instead of one, and
 * optionally the reservation of each claimed installation's next report timestamp.
 */
export type LeaseBatchOptions = Omit<LeaseClaimOptions, 'token'> & {
  /**
   * Given: each claim also reserves the timestamp of the report it is for, in the same atomic
   * step: max(`from`, stored `lastTimestamp` + 1 ms) as ISO-8601, stored as the new
   * `lastTimestamp` (nothing else of the record changes) and returned as `reservedTimestamp`.
   * The holder can then send it without a `reportStarted` write of its own: it is durable
   * before the claim returns, so no later report, in any process, reuses it. `from` is the
   * caller's clock (epoch ms) when it sent the claim, i.e. before it reads any balance. A
   * reservation that no report uses is simply skipped over.
   */
  reserveTimestamp?: { from: number }
}

export type LeaseClaim =
  | {
      status: 'claimed'
      credentials: StoredCredentials
      /** The change counter at the claim; hand it back in `reportFinished.lease`. */
      pendingSeq: number
      /** The last `timestamp` sent by any process: the floor for the next one. */
      lastTimestamp: string | null
      /**
       * With `reserveTimestamp` (`claimMany`): the timestamp reserved for this claim's report,
       * later than `lastTimestamp` and already stored as the installation's `lastTimestamp`.
       */
      reservedTimestamp?: string
    }
  /** Another claim holds a live lease; it ends in at most `retryInMs`. */
  | { status: 'busy'; retryInMs: number }
  /** `onlyIf` was given and no report is owed. */
  | { status: 'idle' }
  | { status: 'inactive'; tokenState: TokenState }
  | { status: 'unknown' }

/**
 * Coordination between processes that share one store: at most one report in flight per
 * installation (a lease that expires unless renewed, so a crashed holder's work is picked up),
 * and sweeps that claim work atomically so that N replicas do not send N times. Every time is
 * taken from the store's own clock (database `now()`, Redis `TIME`); callers pass durations
 * only, so replicas with skewed clocks still agree.
 */
export interface StoreLeases {
  /** Atomically takes the installation's lease, if free (and owed work, with `onlyIf`). */
  claim(installationId: string, options: LeaseClaimOptions): Promise<LeaseClaim>
  /**
   * `claim` for many installations in one store operation (one transaction, statement or
   * script): one result per entry, in order, the same as calling `claim` for each in turn (an
   * installation listed twice is `busy` the second time if the first entry took it). For a
   * reporter that starts a page of reports: one store round trip instead of one per report.
   * With `options.reserveTimestamp`, each claim also reserves its report's timestamp (see
   * `LeaseBatchOptions`), so those reports need no store write before their request.
   */
  claimMany(claims: readonly HeldLease[], options: LeaseBatchOptions): Promise<LeaseClaim[]>
  /** Extends leases still held by their tokens; returns the tokens still held. */
  renew(leases: readonly HeldLease[], leaseMs: number): Promise<string[]>
  /** Frees a lease if `token` still holds it (for claims that end without `reportFinished`). */
  release(lease: HeldLease): Promise<void>
  /** Installations whose lease expired without being released (a crashed holder). */
  listAbandoned(limit: number): Promise<string[]>
  /**
   * Work nobody is doing: installations (active token) with an abandoned lease, and pending ones
   * that no live lease covers, oldest change first. See `UnattendedQuery` for the filters.
   */
  listUnattended(query: UnattendedQuery): Promise<string[]>
  /**
   * Atomically reserves up to `limit` active installations whose last claim is at least
   * `olderThanMs` old (or never) and that no live lease covers; a reserved one is not returned
   * again, to anyone, for `reserveMs`. A claim counts as the installation's last claim.
   */
  reserveDue(olderThanMs: number, reserveMs: number, limit: number): Promise<string[]>
}
