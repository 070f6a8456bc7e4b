import type { Logger } from '../logger.js'
import type { LeaseClaim, StoreLeases } from '../store/store-types.js'
import type { ClaimPolicy } from './claim-policy.js'
import type { ClaimedLease, HeldLeases } from './held-leases.js'
import type { ReportReason } from './reporter-types.js'

/** Returned by `claimAhead`. */
export interface ClaimPlan {
  /**
   * To call once the report of `installationId` requested with the plan has finished (or was
   * dropped: installation deleted, reporter closed): frees a lease claimed for it that no
   * report took.
   */
  done(installationId: string): void
}

export interface ClaimAheadOptions {
  leases: StoreLeases
  held: HeldLeases
  policy: ClaimPolicy
  /** How many leases are claimed per store call. */
  chunkSize: number
  logger: Logger
}

/** Installations of one `claimAhead` call whose leases are claimed in one store call. */
interface ClaimChunk {
  plan: ClaimPlan
  ids: string[]
  reason: ReportReason
  next: ClaimChunk | null
  /** Set once the chunk's claim was sent; resolves once its claims are in `claimedAhead`. */
  claiming: Promise<void> | null
  /** The claim has ended (its claims are in `claimedAhead`): a report need not wait for it. */
  settled: boolean
  /** Installations whose report took their place in the chunk and waits for its claim. */
  awaiting: Set<string>
}

/** Chunks claimed ahead of the one whose reports are starting (see `plan`). */
const CHUNKS_AHEAD = 2

/**
 * Plans the leases of reports about to be requested for `ids` (a page of `reportAll`), so
 * that they are claimed `chunkSize` at a time with `claimMany` instead of one store call per
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
export class ClaimAhead {
  /** Installations planned whose report has not yet asked for its lease. */
  private readonly planned = new Map<string, ClaimChunk>()
  /** Leases claimed ahead, held (and renewed) until their report takes them. */
  private readonly claimedAhead = new Map<string, { claimed: ClaimedLease; chunk: ClaimChunk }>()
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

  constructor(private readonly options: ClaimAheadOptions) {}

  plan(ids: readonly string[], reason: ReportReason): ClaimPlan {
    const plan: ClaimPlan = {
      done: (installationId) => {
        if (this.planned.get(installationId)?.plan === plan) this.planned.delete(installationId)
        this.giveBackAhead(installationId, plan)
      },
    }
    let previous = this.lastPlanned
    for (let i = 0; i < ids.length; i += this.options.chunkSize) {
      // An installation another plan covers keeps that plan's claim.
      const chunkIds = ids
        .slice(i, i + this.options.chunkSize)
        .filter((id) => !this.planned.has(id) && !this.claimedAhead.has(id))
      if (chunkIds.length === 0) continue
      const chunk: ClaimChunk = {
        plan,
        ids: chunkIds,
        reason,
        next: null,
        claiming: null,
        settled: false,
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
   * The lease claimed ahead for this installation's report, if a plan covers it. A promise only
   * while the chunk's claim is still out: most reports find theirs claimed and take it at once.
   */
  take(installationId: string): ClaimedLease | null | Promise<ClaimedLease | null> {
    const chunk = this.planned.get(installationId)
    if (chunk) {
      this.planned.delete(installationId)
      chunk.awaiting.add(installationId) // before startClaim: the claim is for this report
      this.startClaim(chunk)
      for (let ahead = chunk.next, n = 0; ahead && n < CHUNKS_AHEAD; ahead = ahead.next, n++) {
        this.startClaim(ahead)
      }
      if (!chunk.settled) return this.takeOnceClaimed(installationId, chunk)
      chunk.awaiting.delete(installationId)
    }
    return this.takeClaimed(installationId)
  }

  private async takeOnceClaimed(installationId: string, chunk: ClaimChunk) {
    await chunk.claiming
    chunk.awaiting.delete(installationId)
    return this.takeClaimed(installationId)
  }

  private takeClaimed(installationId: string): ClaimedLease | null {
    const ahead = this.claimedAhead.get(installationId)
    if (!ahead) return null
    this.claimedAhead.delete(installationId)
    // Lost meanwhile (not renewed in time): claim afresh.
    if (!this.options.held.take(ahead.claimed.lease.token)) return null
    return ahead.claimed
  }

  /** A lease claimed ahead for the installation being given back, for its claim to wait for. */
  releaseOf(installationId: string): Promise<void> | undefined {
    return this.releasing.get(installationId)
  }

  /**
   * A change was notified, or a new token stored, for the installation: a lease claimed ahead
   * predates it (its change counter would keep the installation pending after the report, its
   * token may be the old one), so it is given back and the report claims afresh when it starts.
   */
  forget(installationId: string): void {
    if (this.planned.size === 0 && this.claimedAhead.size === 0) return // the usual case
    this.planned.delete(installationId)
    this.giveBackAhead(installationId)
  }

  /** The lease claimed ahead with `token` was lost before its report took it. */
  lost(installationId: string, token: string): void {
    const ahead = this.claimedAhead.get(installationId)
    if (ahead?.claimed.lease.token === token) this.claimedAhead.delete(installationId)
  }

  /** Frees the leases claimed ahead for reports that will not run. */
  async close(): Promise<void> {
    this.closed = true
    this.planned.clear()
    this.lastPlanned = null
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
    for (const [id, { claimed }] of this.claimedAhead) this.giveBack(id, claimed)
    this.claimedAhead.clear()
    await Promise.allSettled([...this.pending])
  }

  private startClaim(chunk: ClaimChunk): void {
    if (chunk.claiming) return
    // Leave out installations whose report was dropped before the chunk's turn came.
    const ids = chunk.ids.filter((id) => this.wants(chunk, id))
    if (ids.length === 0) {
      chunk.settled = true
      chunk.claiming = Promise.resolve()
    } else chunk.claiming = this.track(this.claimChunk(chunk, ids))
  }

  private async claimChunk(chunk: ClaimChunk, ids: string[]): Promise<void> {
    try {
      await this.claimLeases(chunk, ids)
    } finally {
      chunk.settled = true
    }
  }

  private async claimLeases(chunk: ClaimChunk, ids: string[]): Promise<void> {
    // No `beforeClaim` here, so no commit on every chunk's path. A write of this process not
    // yet committed can make a claim come back busy (its own lease, not yet freed) or idle (a
    // pending mark not yet stored): such a report claims on its own, after the commit. Or it
    // can make a claim succeed that a stored finish would have made idle: one report more.
    const { held, policy } = this.options
    const tokens = ids.map(() => held.nextToken())
    const requestedAt = Date.now()
    let claims: LeaseClaim[]
    try {
      // Each claim also reserves its report's timestamp (from this instant, before any of the
      // chunk's balances is read): a report under it then needs no store write before sending.
      claims = await this.options.leases.claimMany(
        ids.map((installationId, i) => ({ installationId, token: tokens[i]! })),
        { ...policy.options(chunk.reason), reserveTimestamp: { from: requestedAt } },
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
      policy.answered(id)
      const claimed = held.hold(id, tokens[i]!, claim, requestedAt, true)
      if (this.wants(chunk, id) && !this.closed) this.claimedAhead.set(id, { claimed, chunk })
      else this.giveBack(id, claimed)
    }
  }

  /** Whether the installation's report still counts on the chunk's claim (not dropped). */
  private wants(chunk: ClaimChunk, installationId: string): boolean {
    return this.planned.get(installationId) === chunk || chunk.awaiting.has(installationId)
  }

  /** Gives back the lease claimed ahead for the installation (only if `plan`'s, when given). */
  private giveBackAhead(installationId: string, plan?: ClaimPlan): void {
    const ahead = this.claimedAhead.get(installationId)
    if (!ahead || (plan && ahead.chunk.plan !== plan)) return
    this.claimedAhead.delete(installationId)
    this.giveBack(installationId, ahead.claimed)
  }

  /** Frees a lease claimed ahead that no report will take. */
  private giveBack(installationId: string, claimed: ClaimedLease): void {
    const released = this.track(claimed.lease.release())
    this.releasing.set(installationId, released)
    void released.then(() => {
      if (this.releasing.get(installationId) === released) this.releasing.delete(installationId)
    })
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise)
    const untrack = () => this.pending.delete(promise)
    promise.then(untrack, untrack)
    return promise
  }
}
