import { PrepaidBalancesError } from '../errors.js'
import type { BackendLeases, SealedCredentials, SealedLeaseClaim } from './store-backend.js'
import type {
  HeldLease,
  LeaseBatchOptions,
  LeaseClaim,
  StoredCredentials,
  StoreLeases,
} from './store-types.js'

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
  const release = (lease: HeldLease) => call('release a lease', () => leases.release(lease))
  return {
    async claim(installationId, options): Promise<LeaseClaim> {
      checkClaimOptions(options)
      checkToken(options.token)
      const claim = await call('claim a lease', () => leases.claim(installationId, options))
      if (claim.status !== 'claimed') return claim
      try {
        return openClaim(claim, installationId, open)
      } catch (error) {
        // A tampered token: leave the installation pending, not held until the lease runs out.
        await release({ installationId, token: options.token }).catch(() => {})
        throw error
      }
    },
    async claimMany(claims, options): Promise<LeaseClaim[]> {
      checkClaimOptions(options)
      if (!Array.isArray(claims)) {
        throw new PrepaidBalancesError('ERR_STORE', 'claimMany() takes an array of claims')
      }
      for (const claim of claims) checkToken(claim?.token)
      // Backends get each installation once; a repeat is what a second `claim` would get.
      const firsts = new Map<string, number>() // installation → its index in `distinct`
      const distinct: HeldLease[] = []
      let repeats: Set<number> | null = null
      for (let i = 0; i < claims.length; i++) {
        const claim = claims[i]!
        if (firsts.has(claim.installationId)) {
          repeats ??= new Set()
          repeats.add(i)
        } else {
          firsts.set(claim.installationId, distinct.length)
          distinct.push({ installationId: claim.installationId, token: claim.token })
        }
      }
      const sealed =
        distinct.length === 0
          ? []
          : await call('claim leases', () => leases.claimMany(distinct, options))
      const opened: LeaseClaim[] = []
      try {
        for (let i = 0; i < sealed.length; i++) {
          const claim = sealed[i]!
          opened.push(
            claim.status === 'claimed'
              ? openClaim(claim, distinct[i]!.installationId, open)
              : claim,
          )
        }
      } catch (error) {
        // A tampered token: throw as \`claim\` would, without holding any lease this call took.
        const taken = distinct.filter((_, i) => sealed[i]?.status === 'claimed')
        await Promise.all(taken.map((lease) => release(lease).catch(() => {})))
        throw error
      }
      if (!repeats) return opened // one result per claim, in order
      const seen = repeats
      return claims.map(({ installationId }, i): LeaseClaim => {
        const first = opened[firsts.get(installationId)!]!
        if (!seen.has(i) || first.status !== 'claimed') return first
        return { status: 'busy', retryInMs: options.leaseMs }
      })
    },
    async renew(held, leaseMs) {
      checkInteger('leaseMs', leaseMs, 1)
      return held.length === 0 ? [] : call('renew leases', () => leases.renew(held, leaseMs))
    },
    release,
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

/** A claim with its token decrypted; written out, not a rest copy: one per report. */
function openClaim(
  claim: Extract<SealedLeaseClaim, { status: 'claimed' }>,
  installationId: string,
  open: (sealed: SealedCredentials, installationId: string) => StoredCredentials,
): LeaseClaim {
  const opened: LeaseClaim = {
    status: 'claimed',
    credentials: open(claim.sealed, installationId),
    pendingSeq: claim.pendingSeq,
    lastTimestamp: claim.lastTimestamp,
  }
  if (claim.reservedTimestamp !== undefined) opened.reservedTimestamp = claim.reservedTimestamp
  return opened
}

function checkClaimOptions(options: LeaseBatchOptions): void {
  checkInteger('leaseMs', options?.leaseMs, 1)
  if (options.onlyIf?.idleMs !== undefined) checkInteger('idleMs', options.onlyIf.idleMs)
  if (options.reserveTimestamp !== undefined) {
    checkInteger('reserveTimestamp.from', options.reserveTimestamp?.from)
  }
}

function checkToken(token: unknown): void {
  if (typeof token !== 'string' || token === '') {
    throw new PrepaidBalancesError('ERR_STORE', 'A lease token must be a non-empty string')
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
