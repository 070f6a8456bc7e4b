import { PrepaidBalancesError } from '../errors.js'
import type { BackendLeases, SealedCredentials } from './store-backend.js'
import type { LeaseClaim, StoredCredentials, StoreLeases } from './store-types.js'

type Call = <T>(operation: string, fn: () => T | Promise<T>) => Promise<T>

/**
 * The `leases` capability of an encrypted store: argument checks and error wrapping as for the
 * other methods, and the token of a successful claim decrypted like `getCredentials` does.
 */
export function encryptedLeases(
  leases: BackendLeases,
  call: Call,
  open: (sealed: SealedCredentials, installationId: string) => StoredCredentials,
): StoreLeases {
  return {
    async claim(installationId, options): Promise<LeaseClaim> {
      checkInteger('leaseMs', options?.leaseMs, 1)
      if (typeof options.token !== 'string' || options.token === '') {
        throw new PrepaidBalancesError('ERR_STORE', 'A lease token must be a non-empty string')
      }
      if (options.onlyIf?.idleMs !== undefined) checkInteger('idleMs', options.onlyIf.idleMs)
      const claim = await call('claim a lease', () => leases.claim(installationId, options))
      if (claim.status !== 'claimed') return claim
      const { sealed, ...rest } = claim
      try {
        return { ...rest, credentials: open(sealed, installationId) }
      } catch (error) {
        // A tampered token: leave the installation pending, not held until the lease runs out.
        await call('release a lease', () =>
          leases.release({ installationId, token: options.token }),
        ).catch(() => {})
        throw error
      }
    },
    async renew(held, leaseMs) {
      checkInteger('leaseMs', leaseMs, 1)
      return held.length === 0 ? [] : call('renew leases', () => leases.renew(held, leaseMs))
    },
    release: (lease) => call('release a lease', () => leases.release(lease)),
    async listAbandoned(limit) {
      checkInteger('limit', limit)
      return call('list abandoned leases', () => leases.listAbandoned(limit))
    },
    async listUnattended(query) {
      checkInteger('retryFailedAfterMs', query?.retryFailedAfterMs)
      checkInteger('pendingForMs', query.pendingForMs ?? 0)
      checkInteger('limit', query.limit)
      const normalized = { ...query, pendingForMs: query.pendingForMs ?? 0 }
      return call('list unattended installations', () => leases.listUnattended(normalized))
    },
    async reserveDue(olderThanMs, reserveMs, limit) {
      checkInteger('olderThanMs', olderThanMs)
      checkInteger('reserveMs', reserveMs)
      return call('reserve due installations', () =>
        leases.reserveDue(olderThanMs, reserveMs, checkInteger('limit', limit)),
      )
    },
  }
}

function checkInteger(name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new PrepaidBalancesError(
      'ERR_STORE',
      `${name} must be an integer ≥ ${min}, got ${String(value)}`,
    )
  }
  return value
}
