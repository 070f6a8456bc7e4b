import type { SealedLeaseClaim } from './store-backend.js'
import type { InstallationRecord, StoreWrite, TokenState } from './store-types.js'

/** How the Redis store's values look on the wire: script arguments and replies, hash fields. */

/** The script's wire form of a write (short keys, no nulls: cjson would make them userdata). */
export function compactWrite(write: StoreWrite): Record<string, unknown> {
  const { installationId: id, at } = write
  switch (write.type) {
    case 'markPending':
      return { t: 'm', id, at }
    case 'reportStarted':
      return { t: 's', id, at, ts: write.timestamp }
    case 'reportFinished':
      return {
        t: 'f',
        id,
        at,
        o: write.outcome,
        c: write.clearPending,
        ...(write.status === null || write.status === undefined ? {} : { st: write.status }),
        ...(write.lease ? { seq: write.lease.pendingSeq, lease: write.lease.token } : {}),
        ...(write.tokenState === undefined ? {} : { state: write.tokenState }),
        ...(write.tokenGeneration === undefined ? {} : { gen: write.tokenGeneration }),
      }
    default:
      throw new TypeError(`unknown store write type "${(write as { type: unknown }).type}"`)
  }
}

export function claimFromReply(reply: Array<string | null>): SealedLeaseClaim {
  const [status, ...rest] = reply
  switch (status) {
    case 'claimed': {
      const [envelope, tokenType, tokenState, generation, pendingSeq, lastTimestamp, reserved] =
        rest
      return {
        status,
        sealed: {
          envelope: envelope!,
          tokenType: tokenType!,
          tokenState: tokenState as TokenState,
          tokenGeneration: Number(generation),
        },
        pendingSeq: Number(pendingSeq),
        lastTimestamp: lastTimestamp ?? null,
        ...(reserved ? { reservedTimestamp: reserved } : {}),
      }
    }
    case 'busy':
      return { status, retryInMs: Math.max(1, Number(rest[0])) }
    case 'inactive':
      return { status, tokenState: rest[0] as TokenState }
    case 'idle':
    case 'unknown':
      return { status }
    default:
      throw new Error(`unexpected claim reply ${JSON.stringify(status)}`)
  }
}

const NUMBER_FIELDS = new Set([
  'tokenGeneration',
  'pendingSince',
  'lastAttemptAt',
  'lastDeliveredAt',
  'lastStatus',
  'createdAt',
  'updatedAt',
])

export function recordFromHash(installationId: string, flat: string[]): InstallationRecord {
  const hash = new Map<string, string>()
  for (let i = 0; i < flat.length; i += 2) hash.set(flat[i]!, flat[i + 1]!)
  const field = (name: keyof InstallationRecord) => {
    const value = hash.get(name)
    if (value === undefined) return null
    return NUMBER_FIELDS.has(name) ? Number(value) : value
  }
  return {
    installationId,
    tokenType: field('tokenType') as string,
    tokenState: field('tokenState') as TokenState,
    tokenGeneration: field('tokenGeneration') as number,
    pending: hash.get('pending') === '1',
    pendingSince: field('pendingSince') as number | null,
    lastTimestamp: field('lastTimestamp') as string | null,
    lastAttemptAt: field('lastAttemptAt') as number | null,
    lastDeliveredAt: field('lastDeliveredAt') as number | null,
    lastOutcome: field('lastOutcome') as InstallationRecord['lastOutcome'],
    lastStatus: field('lastStatus') as number | null,
    createdAt: field('createdAt') as number,
    updatedAt: field('updatedAt') as number,
  }
}
