import { nextTimestamp } from '../reporter/monotonic-timestamp.js'
import type { OneClaimOptions, SealedLeaseClaim } from './store-backend.js'
import type { InstallationRecord, StoreWrite, UnattendedQuery } from './store-types.js'

/**
 * The reference semantics of `StoreLeases`, as plain functions on a record and its coordination
 * fields. The memory store runs them directly; the SQL and Redis stores mirror them in
 * statements and scripts, and the conformance suite checks that all agree. `now` is the store's
 * clock (epoch ms).
 */
export interface LeaseFields {
  /** Bumped by every change that a report in flight may not have read (see `markPending`). */
  pendingSeq: number
  leaseOwner: string | null
  /** When the lease ends unless renewed. */
  leaseUntil: number | null
  /** When the installation was last claimed. */
  lastClaimedAt: number | null
  /** The last claim as `reserveDue` sees it: a reservation moves it forward. */
  schedAt: number | null
  /** When the installation last became pending, by the store's clock. */
  pendingMarkedAt: number | null
}

export function newLeaseFields(): LeaseFields {
  return {
    pendingSeq: 0,
    leaseOwner: null,
    leaseUntil: null,
    lastClaimedAt: null,
    schedAt: null,
    pendingMarkedAt: null,
  }
}

export const isLeaseLive = (f: LeaseFields, now: number) =>
  f.leaseOwner !== null && (f.leaseUntil ?? 0) > now

/** A holder that neither finished nor renewed in time: it crashed or lost its store. */
export const isLeaseAbandoned = (f: LeaseFields, now: number) =>
  f.leaseOwner !== null && (f.leaseUntil ?? 0) <= now

/** A new token: a report in flight with the old one must not clear the new pending mark. */
export function applyLeaseSideOfCredentialsSaved(
  record: InstallationRecord | undefined,
  f: LeaseFields,
  now: number,
): void {
  if (!record?.pending) f.pendingMarkedAt = now
  f.pendingSeq += 1
}

/**
 * Before a write is applied to the record: the coordination side of it. Returns the write to
 * apply, with `clearPending` withdrawn if a change was marked since the lease was claimed.
 */
export function applyLeaseSideOfWrite(
  record: InstallationRecord,
  f: LeaseFields,
  write: StoreWrite,
  now: number,
): StoreWrite {
  if (write.type === 'markPending') {
    // Only a change that a report in flight may have missed needs to be counted; an already
    // pending installation with no lease costs no write (as in record-transitions.ts).
    if (!record.pending || f.leaseOwner !== null) f.pendingSeq += 1
    if (!record.pending) f.pendingMarkedAt = now
    return write
  }
  if (write.type !== 'reportFinished' || !write.lease) return write
  const { token, pendingSeq } = write.lease
  if (f.leaseOwner === token) {
    f.leaseOwner = null
    f.leaseUntil = null
  }
  return write.clearPending && pendingSeq !== f.pendingSeq
    ? { ...write, clearPending: false }
    : write
}

/**
 * A claim; with `reserveTimestamp` (claimMany's option) it also stores the next report
 * timestamp as `record.lastTimestamp`, in the same step as the lease.
 */
export function claimLease(
  record: InstallationRecord,
  f: LeaseFields,
  options: OneClaimOptions,
  envelope: string,
  now: number,
): SealedLeaseClaim {
  if (record.tokenState !== 'active') return { status: 'inactive', tokenState: record.tokenState }
  if (isLeaseLive(f, now)) return { status: 'busy', retryInMs: Math.max(1, f.leaseUntil! - now) }
  if (options.onlyIf && !isOwed(record, f, options.onlyIf.idleMs, now)) return { status: 'idle' }
  f.leaseOwner = options.token
  f.leaseUntil = now + options.leaseMs
  f.lastClaimedAt = now
  f.schedAt = now
  const lastTimestamp = record.lastTimestamp
  const claimed: SealedLeaseClaim = {
    status: 'claimed',
    sealed: {
      envelope,
      tokenType: record.tokenType,
      tokenState: record.tokenState,
      tokenGeneration: record.tokenGeneration,
    },
    pendingSeq: f.pendingSeq,
    lastTimestamp,
  }
  if (!options.reserveTimestamp) return claimed
  // Strictly after the stored one, which every earlier report (in any process) stored first.
  record.lastTimestamp = nextTimestamp(options.reserveTimestamp.from, lastTimestamp)
  claimed.reservedTimestamp = record.lastTimestamp // set, not spread: one per claim
  return claimed
}

function isOwed(
  record: InstallationRecord,
  f: LeaseFields,
  idleMs: number | undefined,
  now: number,
) {
  if (record.pending || f.leaseOwner !== null) return true
  return idleMs !== undefined && (f.lastClaimedAt === null || f.lastClaimedAt <= now - idleMs)
}

/** Renewal and release act only for the claim that holds the lease. */
export function renewLease(f: LeaseFields, token: string, leaseMs: number, now: number): boolean {
  if (f.leaseOwner !== token) return false
  f.leaseUntil = now + leaseMs
  return true
}

export function releaseLease(f: LeaseFields, token: string): void {
  if (f.leaseOwner !== token) return
  f.leaseOwner = null
  f.leaseUntil = null
}

/** `listUnattended`'s filter. */
export function isUnattended(
  record: InstallationRecord,
  f: LeaseFields,
  query: Required<Omit<UnattendedQuery, 'limit'>>,
  now: number,
): boolean {
  if (record.tokenState !== 'active' || isLeaseLive(f, now)) return false
  if (isLeaseAbandoned(f, now)) return true
  const failedRecently =
    record.lastOutcome === 'failed' &&
    f.lastClaimedAt !== null &&
    f.lastClaimedAt > now - query.retryFailedAfterMs
  const markedRecently = f.pendingMarkedAt !== null && f.pendingMarkedAt > now - query.pendingForMs
  return record.pending && !failedRecently && !markedRecently
}

/** `reserveDue`'s filter, and the reservation itself. */
export function isDueForSweep(
  record: InstallationRecord,
  f: LeaseFields,
  olderThanMs: number,
  now: number,
): boolean {
  return (
    record.tokenState === 'active' &&
    !isLeaseLive(f, now) &&
    (f.schedAt === null || f.schedAt <= now - olderThanMs)
  )
}

export function reserveForSweep(
  f: LeaseFields,
  olderThanMs: number,
  reserveMs: number,
  now: number,
) {
  // Looks claimed at a time that becomes due again exactly `reserveMs` from now.
  f.schedAt = now + reserveMs - olderThanMs
}
