import type { InstallationRecord, StoreWrite } from './store-types.js'

/**
 * The reference semantics of every store, as plain functions on a record. The memory store runs
 * them directly; SQL stores mirror each function in one statement (see `sqlite-statements.ts`),
 * and the conformance suite checks that both agree.
 */

export const DEFAULT_TOKEN_TYPE = 'Bearer'

/** A first `saveCredentials`: active, generation 1, pending so a first report follows. */
export function newInstallationRecord(
  installationId: string,
  tokenType: string,
  at: number,
): InstallationRecord {
  return {
    installationId,
    tokenType,
    tokenState: 'active',
    tokenGeneration: 1,
    pending: true,
    pendingSince: at,
    lastTimestamp: null,
    lastAttemptAt: null,
    lastDeliveredAt: null,
    lastOutcome: null,
    lastStatus: null,
    createdAt: at,
    updatedAt: at,
  }
}

/**
 * A later `saveCredentials` (a new token for a known installation): the history, notably
 * `lastTimestamp`, is kept so timestamps stay monotonic across re-installs.
 */
export function applyCredentialsSaved(
  record: InstallationRecord,
  tokenType: string,
  at: number,
): void {
  record.tokenType = tokenType
  record.tokenState = 'active'
  record.tokenGeneration += 1
  markPending(record, at)
  record.updatedAt = at
}

export function applyStoreWrite(record: InstallationRecord, write: StoreWrite): void {
  switch (write.type) {
    case 'markPending':
      markPending(record, write.at)
      return
    case 'reportStarted':
      record.lastTimestamp = write.timestamp
      record.lastAttemptAt = write.at
      record.updatedAt = write.at
      return
    case 'reportFinished':
      record.lastOutcome = write.outcome
      record.lastStatus = write.status
      // A finished report counts as an attempt even if nothing was sent (`invalid`, `skipped`),
      // so the schedule does not retry it in a tight loop.
      record.lastAttemptAt = write.at
      record.updatedAt = write.at
      if (write.outcome === 'delivered') record.lastDeliveredAt = write.at
      if (write.clearPending) {
        record.pending = false
        record.pendingSince = null
      }
      // Without a matching generation the state is left alone: a late 401 for a replaced token
      // must not reject the new one.
      if (write.tokenState !== undefined && write.tokenGeneration === record.tokenGeneration) {
        record.tokenState = write.tokenState
      }
      return
    default:
      throw new TypeError(`unknown store write type "${(write as { type: unknown }).type}"`)
  }
}

// Already pending: nothing changes, not even `updatedAt`, so SQL stores need not dirty a page
// for the many changes that arrive while a report is still owed.
function markPending(record: InstallationRecord, at: number): void {
  if (record.pending) return
  record.pending = true
  record.pendingSince = at
  record.updatedAt = at
}
