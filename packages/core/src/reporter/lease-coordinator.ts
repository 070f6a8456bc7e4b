import { randomUUID } from 'node:crypto'
import type { Logger } from '../logger.js'
import type {
  LeaseBatchOptions,
  LeaseClaim,
  StoredCredentials,
  StoreLeases,
} from '../store/store-types.js'
import type { AbortSignalLike } from '../submitter/submitter-types.js'
import { LeaseLostSignal } from './lease-lost-signal.js'
import type { ReportReason } from './reporter-types.js'

/** What a report may do after asking for the installation's lease. */
export type Acquisition =
  | {
      kind: 'claimed'
      credentials: StoredCredentials
      /** The last timestamp any process sent: the floor for this one. */
      lastTimestamp: string | null
      lease: ActiveLease
      /**
       * Claimed ahead (`claimAhead`): the report's timestamp, reserved (stored) by the claim, and
       * when this process asked for it (its `Date.now()`), taken before any balance was read.
       */
      reserved?: { timestamp: string; at: number }
    }
  /** Another process is reporting this installation; try again after `retryInMs`. */
  | { kind: 'retry'; retryInMs: number }
  /** Nothing to send (no usable token, or another process already reported the change). */
  | { kind: 'skip'; error: { code: string; message: string } }

export interface ActiveLease {
  readonly token: string
  /** The store's change counter at the claim, for `reportFinished.lease`. */
  readonly pendingSeq: number
  /** Aborted if the lease is lost (it could not be renewed in time): the send must stop. */
  readonly signal: AbortSignalLike
  /** Stops renewing; called once the report has ended. */
  end(): void
  /** Frees the lease now, for a report that ends without a `reportFinished` write. */
  release(): Promise<void>
}

export interface LeaseCoordinatorOptions {
  leases: StoreLeases
  leaseMs: number
  /** A scheduled report is skipped if the installation was claimed less than this long ago. */
  scheduleIdleMs: number
  /** How many leases `claimAhead` takes per store call. */
  claimChunk: number
  /**
   * Awaited before every claim: commits this process's pending marks and finished reports, so
   * the claim sees them (whether a report is still owed; the end of this process's own lease).
   */
  beforeClaim?: () => Promise<void>
  logger: Logger
}

interface Holding {
  installationId: string
  token: string
  lost: LeaseLostSignal
  /** By this process's clock: when the lease ends if no renewal gets through. */
  validUntil: number
  /** Claimed ahead (`claimAhead`) and not yet taken by a report. */
  idle: boolean
}

type Claimed = Extract<Acquisition, { kind: 'claimed' }>

/** Installations of one `claimAhead` call whose leases are claimed in one store call. */
interface ClaimChunk {
  plan: ClaimPlan
  ids: string[]
  reason: ReportReason
  next: ClaimChunk | null
  /** Set once the chunk's claim was sent; resolves once its claims are in `claimedAhead`. */
  claiming: Promise<void> | null
  /** Installations whose report took their place in the chunk and waits for its claim. */
  awaiting: Set<string>
}

/** Returned by `claimAhead`. */
export interface ClaimPlan {
  /**
   * To call once the report of `installationId` requested with the plan has finished (or was
   * dropped: installation deleted, reporter closed): frees a lease claimed for it that no
   * report took.
   */
  done(installationId: string): void
}

const MAX_POLL_MS = 1000
/** Chunks claimed ahead of the one whose reports are starting (see `claimAhead`). */
const CHUNKS_AHEAD = 2

/**
 * The reporter's side of `store.leases`: one claim per report, renewed in the background while
 * the report runs (all held leases in one store call), and the policy of which reports need a
 * lease unconditionally and which only when work is owed.
 *
 * Reports for a change (`notify`, `recovery`) claim only while the installation is pending: if
 * another process cleared it after this one's pending mark was stored, that process read the
 * balances after the change and delivered them. Scheduled reports also claim an installation
 * that nobody claimed for `scheduleIdleMs`. `flush` and `report-all` always claim.
 */
export class LeaseCoordinator {
  private readonly owner = randomUUID()
  private claims = 0
  private readonly held = new Map<string, Holding>()
  private readonly busyStreak = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private readonly renewEveryMs: number
  /** Installations planned by `claimAhead` whose report has not yet asked for its lease. */
  private readonly planned = new Map<string, ClaimChunk>()
  /** Leases claimed ahead, held (and renewed) until their report takes them. */
  private readonly claimedAhead = new Map<string, { claimed: Claimed; chunk: ClaimChunk }>()
  /** Store calls that `close()` waits for: chunk claims, and releases of unused leases. */
  private readonly pending = new Set<Promise<unknown>>()
  /** Leases claimed ahead being given back: the installation's next claim waits for it. */
  private readonly releasing = new Map<string, Promise<void>>()
  private closed = false
  /**
   * The last chunk planned, so the next plan (reportAll's next page) continues the look-ahead:
   * its first chunk is claimed while the reports of the previous page's last chunks run,
   * instead of every report slot waiting for its claim at each page boundary.
   */
  private lastPlanned: ClaimChunk | null = null

  constructor(private readonly options: LeaseCoordinatorOptions) {
    this.renewEveryMs = Math.max(20, Math.floor(options.leaseMs / 3))
  }

  async acquire(installationId: string, reason: ReportReason): Promise<Acquisition> {
    const ahead = await this.takeClaimedAhead(installationId)
    if (ahead) return ahead
    const released = this.releasing.get(installationId)
    if (released) await released // else the claim could find this process's own lease
    await this.options.beforeClaim?.()
    const token = this.nextToken()
    const requestedAt = Date.now()
    const claim = await this.options.leases.claim(installationId, {
      ...this.claimOptions(reason),
      token,
    })
    if (claim.status !== 'busy') this.busyStreak.delete(installationId)
    switch (claim.status) {
      case 'claimed':
        return this.claimed(installationId, token, claim, requestedAt, false)
      case 'busy': {
        if (reason === 'schedule') {
          return skip('lease_held', 'another process is reporting this installation right now')
        }
        const streak = this.busyStreak.get(installationId) ?? 0
        this.busyStreak.set(installationId, streak + 1)
        // Poll with backoff (25 ms doubling to 1 s, jittered), but never past the lease's end.
        const backoff = Math.min(MAX_POLL_MS, 25 * 2 ** streak) * (0.5 + Math.random() / 2)
        return { kind: 'retry', retryInMs: Math.ceil(Math.min(backoff, claim.retryInMs + 5)) }
      }
      case 'idle':
        return skip('reported_elsewhere', 'another process already reported this change')
      case 'inactive':
        return skip(
          `token_${claim.tokenState}`,
          `token is ${claim.tokenState}; waiting for a new Upsert Installation`,
        )
      default:
        return skip('unknown_installation', 'no stored token for installation')
    }
  }

  /**
   * Plans the leases of reports about to be requested for `ids` (a page of `reportAll`), so
   * that they are claimed `claimChunk` at a time with `claimMany` instead of one store call per
   * report. A chunk is claimed when the first of its reports asks for its lease, together with
   * the next two chunks (of this plan or the next one), so the following reports find theirs
   * already taken even when a claim takes longer than running one chunk's reports (as it can
   * on a busy PostgreSQL). Leases claimed ahead are held and renewed like any other, so a
   * report that starts late still has its lease; the chunk size (a few times the concurrency)
   * bounds how many the process holds without sending (three chunks), i.e. how long another
   * replica's claim for them meets `busy`. Only `claimed` results are kept: a report whose
   * installation was busy, idle, inactive or unknown claims on its own when it starts, exactly
   * as without a plan. Each claim also reserves its report's timestamp (see `claimChunk`).
   */
  claimAhead(ids: readonly string[], reason: ReportReason): ClaimPlan {
    const plan: ClaimPlan = {
      done: (installationId) => {
        if (this.planned.get(installationId)?.plan === plan) this.planned.delete(installationId)
        const ahead = this.claimedAhead.get(installationId)
        if (ahead?.chunk.plan !== plan) return
        this.claimedAhead.delete(installationId)
        this.giveBack(installationId, ahead.claimed)
      },
    }
    let previous = this.lastPlanned
    for (let i = 0; i < ids.length; i += this.options.claimChunk) {
      // An installation another plan covers keeps that plan's claim.
      const chunkIds = ids
        .slice(i, i + this.options.claimChunk)
        .filter((id) => !this.planned.has(id) && !this.claimedAhead.has(id))
      if (chunkIds.length === 0) continue
      const chunk: ClaimChunk = {
        plan,
        ids: chunkIds,
        reason,
        next: null,
        claiming: null,
        awaiting: new Set(),
      }
      for (const id of chunkIds) this.planned.set(id, chunk)
      if (previous) previous.next = chunk
      previous = chunk
    }
    this.lastPlanned = previous
    return plan
  }

  /**
   * A change was notified, or a new token stored, for the installation: a lease claimed ahead
   * predates it (its change counter would keep the installation pending after the report, its
   * token may be the old one), so it is given back and the report claims afresh when it starts.
   */
  forgetClaimedAhead(installationId: string): void {
    if (this.planned.size === 0 && this.claimedAhead.size === 0) return // the usual case
    this.planned.delete(installationId)
    const ahead = this.claimedAhead.get(installationId)
    if (!ahead) return
    this.claimedAhead.delete(installationId)
    this.giveBack(installationId, ahead.claimed)
  }

  /** Stops renewing; leases still held run out (their reports are being aborted anyway). */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /**
   * For a closing reporter, once no report is in flight: frees the leases claimed ahead for
   * reports that will not run, then stops renewing.
   */
  async close(): Promise<void> {
    this.closed = true
    this.planned.clear()
    this.lastPlanned = null
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
    for (const [id, { claimed }] of this.claimedAhead) this.giveBack(id, claimed)
    this.claimedAhead.clear()
    await Promise.allSettled([...this.pending])
    this.stop()
  }

  /** The lease claimed ahead for this installation's report, if a plan covers it. */
  private async takeClaimedAhead(installationId: string): Promise<Claimed | null> {
    const chunk = this.planned.get(installationId)
    if (chunk) {
      this.planned.delete(installationId)
      chunk.awaiting.add(installationId)
      this.startClaim(chunk)
      for (let ahead = chunk.next, n = 0; ahead && n < CHUNKS_AHEAD; ahead = ahead.next, n++) {
        this.startClaim(ahead)
      }
      await chunk.claiming
      chunk.awaiting.delete(installationId)
    }
    const ahead = this.claimedAhead.get(installationId)
    if (!ahead) return null
    this.claimedAhead.delete(installationId)
    const holding = this.held.get(ahead.claimed.lease.token)
    if (!holding) return null // lost meanwhile (not renewed in time): claim afresh
    holding.idle = false
    return ahead.claimed
  }

  private startClaim(chunk: ClaimChunk): void {
    if (chunk.claiming) return
    // Leave out installations whose report was dropped before the chunk's turn came.
    const ids = chunk.ids.filter((id) => this.planned.get(id) === chunk || chunk.awaiting.has(id))
    chunk.claiming = ids.length === 0 ? Promise.resolve() : this.track(this.claimChunk(chunk, ids))
  }

  private async claimChunk(chunk: ClaimChunk, ids: string[]): Promise<void> {
    // No `beforeClaim` here, so no commit on every chunk's path. A write of this process not
    // yet committed can make a claim come back busy (its own lease, not yet freed) or idle (a
    // pending mark not yet stored): such a report claims on its own, after the commit. Or it
    // can make a claim succeed that a stored finish would have made idle: one report more.
    const tokens = ids.map(() => this.nextToken())
    const requestedAt = Date.now()
    let claims: LeaseClaim[]
    try {
      // Each claim also reserves its report's timestamp (from this instant, before any of the
      // chunk's balances is read): a report under it then needs no store write before sending.
      claims = await this.options.leases.claimMany(
        ids.map((installationId, i) => ({ installationId, token: tokens[i]! })),
        { ...this.claimOptions(chunk.reason), reserveTimestamp: { from: requestedAt } },
      )
    } catch (error) {
      // Each report then claims its own lease (and meets the error, if it persists, there).
      this.options.logger.warn('could not claim leases ahead; claiming one by one', {
        leases: ids.length,
        error: error instanceof Error ? error.message : String(error),
      })
      return
    }
    for (const [i, claim] of claims.entries()) {
      if (claim.status !== 'claimed') continue
      const id = ids[i]!
      this.busyStreak.delete(id)
      const claimed = this.claimed(id, tokens[i]!, claim, requestedAt, true)
      const wanted = this.planned.get(id) === chunk || chunk.awaiting.has(id)
      if (wanted && !this.closed) this.claimedAhead.set(id, { claimed, chunk })
      else this.giveBack(id, claimed)
    }
  }

  /** Frees a lease claimed ahead that no report will take. */
  private giveBack(installationId: string, claimed: Claimed): void {
    const released = this.track(claimed.lease.release())
    this.releasing.set(installationId, released)
    void released.then(() => {
      if (this.releasing.get(installationId) === released) this.releasing.delete(installationId)
    })
  }

  private claimOptions(reason: ReportReason): LeaseBatchOptions {
    const options: LeaseBatchOptions = { leaseMs: this.options.leaseMs }
    if (reason === 'notify' || reason === 'recovery') options.onlyIf = { pending: true }
    if (reason === 'schedule') {
      options.onlyIf = { pending: true, idleMs: this.options.scheduleIdleMs }
    }
    return options
  }

  private nextToken(): string {
    return `${this.owner}:${++this.claims}`
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise)
    const untrack = () => this.pending.delete(promise)
    promise.then(untrack, untrack)
    return promise
  }

  private claimed(
    installationId: string,
    token: string,
    claim: Extract<LeaseClaim, { status: 'claimed' }>,
    requestedAt: number,
    idle: boolean,
  ): Claimed {
    return {
      kind: 'claimed',
      credentials: claim.credentials,
      lastTimestamp: claim.lastTimestamp,
      lease: this.hold(installationId, token, claim.pendingSeq, requestedAt, idle),
      ...(claim.reservedTimestamp
        ? { reserved: { timestamp: claim.reservedTimestamp, at: requestedAt } }
        : {}),
    }
  }

  private hold(
    installationId: string,
    token: string,
    pendingSeq: number,
    requestedAt: number,
    idle: boolean,
  ) {
    const holding: Holding = {
      installationId,
      token,
      lost: new LeaseLostSignal(),
      validUntil: requestedAt + this.options.leaseMs,
      idle,
    }
    this.held.set(token, holding)
    if (!this.timer) {
      this.timer = setInterval(() => void this.renewAll(), this.renewEveryMs)
      this.timer.unref()
    }
    const end = () => {
      this.held.delete(token)
      if (this.held.size === 0) this.stop()
    }
    return {
      token,
      pendingSeq,
      signal: holding.lost,
      end,
      release: async () => {
        end()
        await this.options.leases.release({ installationId, token }).catch((error: unknown) => {
          // It runs out by itself; another process then takes over after leaseMs.
          this.options.logger.warn('could not release a lease', {
            installationId,
            error: error instanceof Error ? error.message : String(error),
          })
        })
      },
    } satisfies ActiveLease
  }

  private async renewAll(): Promise<void> {
    const holdings = [...this.held.values()]
    if (holdings.length === 0) return this.stop()
    const requestedAt = Date.now()
    try {
      const kept = new Set(await this.options.leases.renew(holdings, this.options.leaseMs))
      for (const holding of holdings) {
        if (kept.has(holding.token)) holding.validUntil = requestedAt + this.options.leaseMs
        else this.lose(holding, 'lease taken over by another process')
      }
    } catch (error) {
      this.options.logger.warn('could not renew leases', {
        leases: holdings.length,
        error: error instanceof Error ? error.message : String(error),
      })
      // The next renewal would come too late: stop rather than risk two senders.
      const deadline = Date.now() + this.renewEveryMs
      for (const holding of holdings) {
        if (holding.validUntil <= deadline) this.lose(holding, 'lease could not be renewed')
      }
    }
  }

  private lose(holding: Holding, why: string): void {
    if (!this.held.delete(holding.token)) return
    if (holding.idle) {
      // Claimed ahead and not yet taken: no report to stop; its report will claim afresh.
      const ahead = this.claimedAhead.get(holding.installationId)
      if (ahead?.claimed.lease.token === holding.token) {
        this.claimedAhead.delete(holding.installationId)
      }
      return
    }
    this.options.logger.warn(`report aborted: ${why}`, { installationId: holding.installationId })
    holding.lost.abort()
  }
}

function skip(code: string, message: string): Acquisition {
  return { kind: 'skip', error: { code, message } }
}
