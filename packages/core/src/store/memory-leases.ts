import {
  claimLease,
  isDueForSweep,
  isLeaseAbandoned,
  isUnattended,
  type LeaseFields,
  newLeaseFields,
  releaseLease,
  renewLease,
  reserveForSweep,
} from './lease-transitions.js'
import type { MemoryRow } from './memory-store.js'
import type { BackendLeases, OneClaimOptions } from './store-backend.js'
import type { InstallationRecord } from './store-types.js'

/** Leases over the memory store's rows, on this process's clock. */
export function memoryLeases(rows: Map<string, MemoryRow>): BackendLeases {
  const select = (keep: (row: MemoryRow) => boolean) => [...rows.values()].filter(keep)
  const ids = (list: MemoryRow[], limit: number) =>
    list.slice(0, limit).map((row) => row.record.installationId)
  const claimOne = (installationId: string, options: OneClaimOptions, now: number) => {
    const row = rows.get(installationId)
    if (!row) return { status: 'unknown' as const }
    return claimLease(row.record, leaseFieldsOf(row), options, row.envelope, now)
  }
  return {
    claim: (installationId, options) => claimOne(installationId, options, Date.now()),
    claimMany(claims, options) {
      const now = Date.now()
      // One options object for the batch, its token set per claim (claimLease keeps none of it).
      const one: OneClaimOptions = { ...options, token: '' }
      return claims.map(({ installationId, token }) => {
        one.token = token
        return claimOne(installationId, one, now)
      })
    },
    renew(held, leaseMs) {
      const now = Date.now()
      return held
        .filter(({ installationId, token }) => {
          const row = rows.get(installationId)
          return row !== undefined && renewLease(leaseFieldsOf(row), token, leaseMs, now)
        })
        .map(({ token }) => token)
    },
    release({ installationId, token }) {
      const row = rows.get(installationId)
      if (row) releaseLease(leaseFieldsOf(row), token)
    },
    listAbandoned(limit) {
      const now = Date.now()
      const found = select(
        (row) => row.record.tokenState === 'active' && isLeaseAbandoned(leaseFieldsOf(row), now),
      )
      found.sort(
        (a, b) =>
          compareNullsFirst(a.lease!.leaseUntil, b.lease!.leaseUntil) || byId(a.record, b.record),
      )
      return ids(found, limit)
    },
    listUnattended({ limit, retryFailedAfterMs, pendingForMs = 0 }) {
      const now = Date.now()
      const query = { retryFailedAfterMs, pendingForMs }
      const found = select((row) => isUnattended(row.record, leaseFieldsOf(row), query, now))
      found.sort(
        (a, b) =>
          compareNullsFirst(a.record.pendingSince, b.record.pendingSince) ||
          byId(a.record, b.record),
      )
      return ids(found, limit)
    },
    reserveDue(olderThanMs, reserveMs, limit) {
      const now = Date.now()
      const found = select((row) => isDueForSweep(row.record, leaseFieldsOf(row), olderThanMs, now))
      found.sort(
        (a, b) => compareNullsFirst(a.lease!.schedAt, b.lease!.schedAt) || byId(a.record, b.record),
      )
      const reserved = found.slice(0, limit)
      for (const row of reserved) reserveForSweep(row.lease!, olderThanMs, reserveMs, now)
      return ids(reserved, limit)
    },
  }
}

/** The row's lease fields, created on first use. */
export function leaseFieldsOf(row: MemoryRow): LeaseFields {
  if (!row.lease) row.lease = newLeaseFields()
  return row.lease
}

// Plain code-unit order, as SQLite's BINARY collation orders ASCII ids.
export function byId(a: InstallationRecord, b: InstallationRecord): number {
  return a.installationId < b.installationId ? -1 : a.installationId > b.installationId ? 1 : 0
}

export function compareNullsFirst(a: number | null, b: number | null): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  return a - b
}
