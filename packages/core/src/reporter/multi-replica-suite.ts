import { afterEach, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { silentLogger } from '../logger.js'
import type { BalanceStore } from '../store/store-types.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/index.js'
import { createBalanceReporter } from './create-balance-reporter.js'
import { submissionsFor, TestLedger } from './reporter-test-kit.js'
import type { BalanceReporter, BalanceReporterOptions, ReportResult } from './reporter-types.js'

/** Opens handles on one shared store, as separate replicas would (own connections). */
export interface SharedStoreFixture {
  open(encryptionKey: string): BalanceStore
  cleanup(): Promise<void>
}

interface Cluster {
  sandbox: VercelSandbox
  ledger: TestLedger
  replicas: BalanceReporter[]
  /** A store handle for the test itself (e.g. to play a replica that crashed). */
  store: BalanceStore
  install(id: string): Promise<void>
  /** Every replica's report results, in order, for failure messages. */
  events: Array<{ replica: number; at: number; result: ReportResult }>
  /** Waits until Vercel's latest balance of every id equals the ledger. */
  delivered(ids: readonly string[], timeoutMs?: number): Promise<void>
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const cents = (sandbox: VercelSandbox, id: string) =>
  sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents

/**
 * Several reporters in one process over one shared store and one sandbox, as replicas of a
 * partner backend behind a load balancer. Used for every store that several processes share.
 */
export function describeMultiReplicaSuite(name: string, makeFixture: () => SharedStoreFixture) {
  describe(`several replicas over one ${name} store`, () => {
    let cleanup: Array<() => Promise<void>> = []
    afterEach(async () => {
      for (const step of cleanup.reverse()) await step()
      cleanup = []
    })

    async function cluster(
      size: number,
      options: Partial<BalanceReporterOptions> = {},
    ): Promise<Cluster> {
      const fixture = makeFixture()
      const sandbox = await createVercelSandbox()
      const ledger = new TestLedger()
      const encryptionKey = generateEncryptionKey()
      const store = fixture.open(encryptionKey)
      const replicas = Array.from({ length: size }, () =>
        createBalanceReporter({
          store: fixture.open(encryptionKey),
          getBalances: ledger.balances,
          apiUrl: sandbox.url,
          coalesceMs: 20,
          leaseMs: 1500,
          logger: silentLogger,
          retry: { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 5000 },
          ...options,
        }),
      )
      const events: Cluster['events'] = []
      for (const [index, replica] of replicas.entries()) {
        replica.onReport((result) => events.push({ replica: index, at: Date.now(), result }))
      }
      cleanup.push(async () => {
        await Promise.allSettled(replicas.map((replica) => replica.close()))
        await store.close()
        await sandbox.close()
        await fixture.cleanup()
      })
      return {
        sandbox,
        ledger,
        replicas,
        store,
        events,
        async install(id) {
          sandbox.addInstallation(id, { accessToken: `tok_${id}` })
          await replicas[0]!.saveInstallation(id, { accessToken: `tok_${id}` })
        },
        delivered: (ids, timeoutMs = 15_000) =>
          waitUntil(
            () => ids.every((id) => cents(sandbox, id) === (ledger.cents.get(id) ?? 0)),
            timeoutMs,
            'every final balance at the sandbox',
          ),
      }
    }

    it('never has two requests in flight for one installation; every final balance arrives', async () => {
      const c = await cluster(3)
      const ids = Array.from({ length: 8 }, (_, i) => `icfg_mr_${i}`)
      for (const id of ids) await c.install(id)
      c.sandbox.injectFault({ delayMs: 15, times: 100_000 })
      for (let round = 0; round < 12; round++) {
        for (const id of ids) {
          c.ledger.add(id, 1)
          // The same change reaches every replica at about the same time: the worst case.
          for (const replica of c.replicas) replica.notify(id)
        }
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await c.delivered(ids)
      await Promise.all(c.replicas.map((replica) => replica.flush()))
      const stats = c.sandbox.stats()
      expect(stats.maxInFlightPerInstallation).toBe(1)
      expect(stats.timestampRegressions).toBe(0)
      for (const id of ids) expect(cents(c.sandbox, id)).toBe(12)
    })

    it('delivers a change notified on one replica while another is sending', async () => {
      const c = await cluster(2)
      await c.install('icfg_mr_race')
      await c.replicas[0]!.flush()
      const before = submissionsFor(c.sandbox, 'icfg_mr_race').length
      c.sandbox.injectFault({ installationId: 'icfg_mr_race', delayMs: 300 })
      c.ledger.add('icfg_mr_race', 100)
      c.replicas[0]!.notify('icfg_mr_race')
      await waitUntil(() => c.sandbox.stats().inFlight === 1, 5000, 'replica 0 to be sending')
      c.ledger.add('icfg_mr_race', 100) // read by nobody yet: replica 0 read 100
      c.replicas[1]!.notify('icfg_mr_race')
      await c.delivered(['icfg_mr_race'])
      expect(cents(c.sandbox, 'icfg_mr_race')).toBe(200)
      expect(submissionsFor(c.sandbox, 'icfg_mr_race').length - before).toBe(2)
      expect(c.sandbox.stats().maxInFlightPerInstallation).toBe(1)
      await waitUntil(() => c.sandbox.stats().inFlight === 0, 5000, 'no request in flight')
      await Promise.all(c.replicas.map((replica) => replica.flush()))
      expect((await c.store.getInstallation('icfg_mr_race'))?.pending).toBe(false)
    })

    it('takes over the lease of a crashed replica once it expires', async () => {
      // The crashed replica's leases last 600 ms; the live replicas' own leases are longer so
      // that a loaded machine stalling the event loop cannot make one lose its lease mid-send.
      const c = await cluster(2, { leaseMs: 3000 })
      const ids = ['icfg_mr_crash_a', 'icfg_mr_crash_b']
      for (const id of ids) await c.install(id)
      await c.replicas[0]!.flush()
      // Counted, not timed: the first reports can reach the sandbox in the same millisecond
      // as the crash below, and a timestamp boundary would then count them as late.
      const sentBefore = new Map(ids.map((id) => [id, submissionsFor(c.sandbox, id).length]))
      for (const id of ids) c.ledger.add(id, 500)
      // A replica accepted both changes, claimed both installations, and died without a word.
      await c.store.write(
        ids.map((id) => ({ type: 'markPending', installationId: id, at: Date.now() })),
      )
      for (const id of ids) {
        const claim = await c.store.leases!.claim(id, { token: `crashed-${id}`, leaseMs: 600 })
        expect(claim.status).toBe('claimed')
      }
      const crashedAt = Date.now()
      c.replicas[1]!.notify('icfg_mr_crash_a') // a live replica hears of one of them
      await c.delivered(ids, 5000)
      // Nobody sent before the lease ran out; the sweep found the other one soon after.
      expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(550)
      for (const id of ids) {
        const late = submissionsFor(c.sandbox, id).slice(sentBefore.get(id))
        const offsets = late.map((r) => r.receivedAt.getTime() - crashedAt)
        const reports = c.events
          .filter((e) => e.result.installationId === id && e.at >= crashedAt)
          .map(
            (e) =>
              `replica ${e.replica} +${e.at - crashedAt} ms ${e.result.reason} ${e.result.outcome}${e.result.error ? ` (${e.result.error.code})` : ''}`,
          )
        expect(
          late,
          `${id}: requests at +${offsets.join(' ms, +')} ms; reports: ${reports.join('; ')}`,
        ).toHaveLength(1)
        expect(late[0]!.receivedAt.getTime() - crashedAt).toBeGreaterThanOrEqual(550)
      }
    })

    it('does not multiply scheduled reports by the number of replicas', async () => {
      const c = await cluster(3, { reportIntervalMs: 2000 })
      const ids = Array.from({ length: 24 }, (_, i) => `icfg_mr_sched_${i}`)
      for (const id of ids) await c.install(id)
      await Promise.all(c.replicas.map((replica) => replica.flush()))
      await waitUntil(() => ids.every((id) => cents(c.sandbox, id) === 0), 5000, 'first reports')
      const mark = Date.now()
      const sentSince = (id: string) =>
        submissionsFor(c.sandbox, id)
          .map((r) => r.receivedAt.getTime())
          .filter((t) => t >= mark)
      // Each is due once per interval (2 s); generous slack for a loaded machine.
      await waitUntil(
        () => ids.every((id) => sentSince(id).length > 0),
        10_000,
        'scheduled reports',
      )
      await new Promise((resolve) => setTimeout(resolve, 500)) // room for duplicates to show
      for (const id of ids) {
        const times = sentSince(id)
        // Replicas that each swept on their own would send within moments of one another;
        // a claim refuses an installation claimed less than half an interval ago.
        for (let i = 1; i < times.length; i++) {
          expect(times[i]! - times[i - 1]!, id).toBeGreaterThanOrEqual(500)
        }
      }
    })

    it('reportAll on every replica at once: each call reports each installation once, one at a time', async () => {
      // Concurrency 2: leases are claimed ahead in chunks of 8, so the batches overlap.
      const c = await cluster(3, { autoStart: false, concurrency: 2 })
      const ids = Array.from({ length: 30 }, (_, i) => `icfg_mr_all_${String(i).padStart(2, '0')}`)
      for (const id of ids) await c.install(id)
      await c.replicas[0]!.flush()
      const before = new Map(ids.map((id) => [id, submissionsFor(c.sandbox, id).length]))
      c.sandbox.injectFault({ delayMs: 5, times: 100_000 })
      const summaries = await Promise.all(c.replicas.map((replica) => replica.reportAll()))
      for (const summary of summaries) {
        expect(summary).toMatchObject({ total: ids.length, delivered: ids.length })
      }
      for (const id of ids) {
        expect(submissionsFor(c.sandbox, id).length - before.get(id)!, id).toBe(c.replicas.length)
      }
      const stats = c.sandbox.stats()
      expect(stats.maxInFlightPerInstallation).toBe(1)
      expect(stats.timestampRegressions).toBe(0)
      // No lease is left behind: another claim gets every installation at once.
      const claims = await c.store.leases!.claimMany(
        ids.map((installationId) => ({ installationId, token: 'after' })),
        { leaseMs: 1000 },
      )
      expect(claims.map((claim) => claim.status)).toEqual(ids.map(() => 'claimed'))
    })

    it('reportDue (a cron hitting every replica at once) reports each pending installation once', async () => {
      const c = await cluster(3, { autoStart: false })
      const ids = Array.from({ length: 10 }, (_, i) => `icfg_mr_cron_${i}`)
      for (const id of ids) await c.install(id)
      await c.replicas[0]!.flush()
      const before = c.sandbox.requests.length
      for (const id of ids) c.ledger.add(id, 7)
      await c.store.write(
        ids.map((id) => ({ type: 'markPending', installationId: id, at: Date.now() })),
      )
      const summaries = await Promise.all(c.replicas.map((replica) => replica.reportDue()))
      expect(summaries.reduce((sum, s) => sum + s.delivered, 0)).toBe(ids.length)
      expect(c.sandbox.requests.length - before).toBe(ids.length)
      for (const id of ids) expect(cents(c.sandbox, id)).toBe(7)
    })
  })
}
