import { describe, expect, it, type TestContext } from 'vitest'
import type { LeaseClaim } from '../store/store-types.js'
import {
  type ConformanceHarness,
  leasesOf as leasesOfHarness,
  markPending,
  rejectGeneration1,
  reportFinished,
  seed,
  settle,
  T0,
  uniqueToken,
} from './store-conformance-harness.js'

const LONG = 60_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const claimed = (claim: LeaseClaim) => {
  if (claim.status !== 'claimed') throw new Error(`expected a claim, got ${claim.status}`)
  return claim
}

/**
 * `store.leases`, for stores that several processes share. Times come from the store's clock,
 * which a test cannot fake, so expiry is tested with short real leases (a few hundred ms).
 */
export function describeLeaseConformance(h: ConformanceHarness): void {
  describe('leases', () => {
    const leasesOf = (ctx: TestContext) => leasesOfHarness(h, ctx)

    it('hands an installation to one claim; others are busy until it ends', async (ctx) => {
      const leases = leasesOf(ctx)
      const tokens = await seed(h.store, ['icfg_a'])
      expect(await leases.claim('icfg_ghost', { token: 't0', leaseMs: LONG })).toEqual({
        status: 'unknown',
      })
      const first = claimed(await leases.claim('icfg_a', { token: 't1', leaseMs: 10_000 }))
      expect(first).toMatchObject({
        credentials: {
          accessToken: tokens.get('icfg_a'),
          tokenState: 'active',
          tokenGeneration: 1,
        },
        lastTimestamp: null,
      })
      expect(typeof first.pendingSeq).toBe('number')
      const second = await leases.claim('icfg_a', { token: 't2', leaseMs: LONG })
      expect(second.status).toBe('busy')
      const { retryInMs } = second as { retryInMs: number }
      expect(retryInMs).toBeGreaterThan(0)
      expect(retryInMs).toBeLessThanOrEqual(10_000)
    })

    it('lets exactly one of many concurrent claims win', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          leases.claim('icfg_a', { token: `t${i}`, leaseMs: LONG }),
        ),
      )
      expect(claims.filter((c) => c.status === 'claimed')).toHaveLength(1)
      expect(claims.filter((c) => c.status === 'busy')).toHaveLength(19)
    })

    it('does not claim a rejected token', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      await h.store.write([rejectGeneration1('icfg_a', T0 + 1)])
      expect(await leases.claim('icfg_a', { token: 't1', leaseMs: LONG })).toEqual({
        status: 'inactive',
        tokenState: 'rejected',
      })
    })

    it('lets a lease expire, lists it as abandoned meanwhile, and lets another claim take it', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c'])
      claimed(await leases.claim('icfg_a', { token: 'crashed', leaseMs: 150 }))
      claimed(await leases.claim('icfg_b', { token: 'alive', leaseMs: LONG }))
      // Abandoned too, but its token was refused since: nothing to take over.
      claimed(await leases.claim('icfg_c', { token: 'crashed', leaseMs: 150 }))
      await h.store.write([rejectGeneration1('icfg_c', T0 + 1)])
      expect(await leases.listAbandoned(10)).toEqual([])
      await sleep(300)
      expect(await leases.listAbandoned(10)).toEqual(['icfg_a'])
      claimed(await leases.claim('icfg_a', { token: 'next', leaseMs: LONG }))
      expect(await leases.listAbandoned(10)).toEqual([])
    })

    it('renews and releases only for the token that holds the lease', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      claimed(await leases.claim('icfg_a', { token: 't1', leaseMs: 200 }))
      const held = await leases.renew(
        [
          { installationId: 'icfg_a', token: 't1' },
          { installationId: 'icfg_a', token: 'not-mine' },
          { installationId: 'icfg_ghost', token: 't1' },
        ],
        LONG,
      )
      expect(held).toEqual(['t1'])
      await sleep(300)
      expect((await leases.claim('icfg_a', { token: 't2', leaseMs: LONG })).status).toBe('busy')
      await leases.release({ installationId: 'icfg_a', token: 'not-mine' })
      expect((await leases.claim('icfg_a', { token: 't2', leaseMs: LONG })).status).toBe('busy')
      await leases.release({ installationId: 'icfg_a', token: 't1' })
      claimed(await leases.claim('icfg_a', { token: 't2', leaseMs: LONG }))
      expect(await leases.renew([{ installationId: 'icfg_a', token: 't1' }], LONG)).toEqual([])
    })

    it('with onlyIf, claims only when a report is owed (pending, or idle for idleMs)', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      await settle(h.store, ['icfg_a'], T0 + 1)
      const owed = { pending: true } as const
      expect(await leases.claim('icfg_a', { token: 't1', leaseMs: LONG, onlyIf: owed })).toEqual({
        status: 'idle',
      })
      // Never claimed: idle "forever", so any idleMs is met.
      const idle = { pending: true, idleMs: LONG } as const
      const first = claimed(
        await leases.claim('icfg_a', { token: 't1', leaseMs: LONG, onlyIf: idle }),
      )
      await h.store.write([
        reportFinished('icfg_a', T0 + 2, { lease: { token: 't1', pendingSeq: first.pendingSeq } }),
      ])
      expect(await leases.claim('icfg_a', { token: 't2', leaseMs: LONG, onlyIf: idle })).toEqual({
        status: 'idle',
      })
      const idleZero = { pending: true, idleMs: 0 } as const
      const second = claimed(
        await leases.claim('icfg_a', { token: 't2', leaseMs: LONG, onlyIf: idleZero }),
      )
      await h.store.write([
        reportFinished('icfg_a', T0 + 3, { lease: { token: 't2', pendingSeq: second.pendingSeq } }),
      ])
      await h.store.write([markPending('icfg_a', T0 + 4)])
      claimed(await leases.claim('icfg_a', { token: 't3', leaseMs: LONG, onlyIf: owed }))
    })

    it('treats an expired, unreleased lease as owed work even with nothing pending', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      await settle(h.store, ['icfg_a'], T0 + 1)
      claimed(await leases.claim('icfg_a', { token: 'crashed', leaseMs: 100 }))
      await sleep(200)
      claimed(
        await leases.claim('icfg_a', { token: 't2', leaseMs: LONG, onlyIf: { pending: true } }),
      )
    })

    it('reportFinished releases its lease, and clears pending only if nothing was marked since the claim', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      const first = claimed(await leases.claim('icfg_a', { token: 't1', leaseMs: LONG }))
      // Another replica accepts a change while this report is in flight.
      await h.store.write([markPending('icfg_a', T0 + 5)])
      await h.store.write([
        reportFinished('icfg_a', T0 + 9, { lease: { token: 't1', pendingSeq: first.pendingSeq } }),
      ])
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: true,
        lastOutcome: 'delivered',
        lastDeliveredAt: T0 + 9,
      })
      const second = claimed(await leases.claim('icfg_a', { token: 't2', leaseMs: LONG }))
      expect(second.pendingSeq).toBeGreaterThan(first.pendingSeq)
      await h.store.write([
        reportFinished('icfg_a', T0 + 19, {
          lease: { token: 't2', pendingSeq: second.pendingSeq },
        }),
      ])
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: false,
        pendingSince: null,
      })
      claimed(await leases.claim('icfg_a', { token: 't3', leaseMs: LONG }))
    })

    it('a new token saved during a report keeps the installation pending after it', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      const lease = claimed(await leases.claim('icfg_a', { token: 't1', leaseMs: LONG }))
      await h.store.saveCredentials('icfg_a', { accessToken: uniqueToken() }, T0 + 5)
      await h.store.write([
        reportFinished('icfg_a', T0 + 9, { lease: { token: 't1', pendingSeq: lease.pendingSeq } }),
      ])
      expect((await h.store.getInstallation('icfg_a'))?.pending).toBe(true)
    })

    it('listUnattended: pending and unleased, leaving out recent failures until they are due again', async (ctx) => {
      const leases = leasesOf(ctx)
      const ids = ['icfg_a', 'icfg_b', 'icfg_c', 'icfg_d']
      await seed(h.store, ids)
      await settle(h.store, ids, T0 + 1)
      await h.store.write([
        markPending('icfg_c', T0 + 10),
        markPending('icfg_a', T0 + 11),
        markPending('icfg_b', T0 + 12),
      ])
      claimed(await leases.claim('icfg_b', { token: 'tb', leaseMs: LONG }))
      const c = claimed(await leases.claim('icfg_c', { token: 'tc', leaseMs: LONG }))
      await h.store.write([
        reportFinished('icfg_c', T0 + 20, {
          outcome: 'failed',
          status: 503,
          clearPending: false,
          lease: { token: 'tc', pendingSeq: c.pendingSeq },
        }),
      ])
      const unattended = (retryFailedAfterMs: number, limit = 10) =>
        leases.listUnattended({ retryFailedAfterMs, limit })
      expect(await unattended(LONG)).toEqual(['icfg_a'])
      expect(await unattended(0)).toEqual(['icfg_c', 'icfg_a'])
      expect(await unattended(0, 1)).toEqual(['icfg_c'])
    })

    it('listUnattended with pendingForMs leaves fresh changes to the replica that accepted them', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c'])
      await settle(h.store, ['icfg_a', 'icfg_b', 'icfg_c'], T0 + 1)
      claimed(await leases.claim('icfg_c', { token: 'crashed', leaseMs: 100 }))
      await sleep(250)
      await h.store.write([markPending('icfg_b', T0 + 10)]) // fresh: just accepted
      const query = { retryFailedAfterMs: 0, limit: 10 }
      // icfg_c: an abandoned lease is listed however fresh its change.
      expect(await leases.listUnattended({ ...query, pendingForMs: 200 })).toEqual(['icfg_c'])
      expect(await leases.listUnattended({ ...query, pendingForMs: 0 })).toEqual([
        'icfg_c',
        'icfg_b',
      ])
      await sleep(250)
      expect(await leases.listUnattended({ ...query, pendingForMs: 200 })).toEqual([
        'icfg_c',
        'icfg_b',
      ])
    })

    it('reserveDue hands each due, unleased installation to one caller', async (ctx) => {
      const leases = leasesOf(ctx)
      const ids = Array.from({ length: 12 }, (_, i) => `icfg_${String(i).padStart(2, '0')}`)
      await seed(h.store, ids)
      claimed(await leases.claim('icfg_00', { token: 't', leaseMs: LONG }))
      const batches = await Promise.all([1, 2, 3].map(() => leases.reserveDue(LONG, LONG, 5)))
      const reserved = batches.flat()
      expect(new Set(reserved).size).toBe(reserved.length)
      expect([...reserved].sort()).toEqual(ids.slice(1))
      expect(await leases.reserveDue(LONG, LONG, 100)).toEqual([])
    })

    it('reserveDue: a reservation lapses after reserveMs; a claim counts as the last claim', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a', 'icfg_b'])
      expect((await leases.reserveDue(LONG, 200, 10)).sort()).toEqual(['icfg_a', 'icfg_b'])
      expect(await leases.reserveDue(LONG, 200, 10)).toEqual([])
      const a = claimed(await leases.claim('icfg_a', { token: 't', leaseMs: LONG }))
      await leases.release({ installationId: 'icfg_a', token: 't' })
      expect(a.status).toBe('claimed')
      await sleep(300)
      // icfg_a was claimed after its reservation: not due again for another interval.
      expect(await leases.reserveDue(LONG, 200, 10)).toEqual(['icfg_b'])
    })

    it('refuses a tampered token with ERR_DECRYPTION_FAILED and does not keep its lease', async (ctx) => {
      const leases = leasesOf(ctx)
      const { ciphertext } = h.options
      if (!ciphertext) return ctx.skip('needs options.ciphertext')
      await seed(h.store, ['icfg_a', 'icfg_b'])
      // icfg_b's envelope is valid, but bound to icfg_b: moved to icfg_a it must not decrypt.
      await ciphertext.write(h.store, 'icfg_a', (await ciphertext.read(h.store, 'icfg_b'))!)
      const attempt = () => leases.claim('icfg_a', { token: 't', leaseMs: LONG })
      await expect(attempt()).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' })
      await expect(attempt()).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' })
    })

    it('forgets the lease of a deleted installation', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      claimed(await leases.claim('icfg_a', { token: 't1', leaseMs: LONG }))
      await h.store.deleteInstallation('icfg_a')
      expect(await leases.claim('icfg_a', { token: 't2', leaseMs: LONG })).toEqual({
        status: 'unknown',
      })
      await seed(h.store, ['icfg_a'])
      claimed(await leases.claim('icfg_a', { token: 't2', leaseMs: LONG }))
      expect(await leases.listAbandoned(10)).toEqual([])
    })
  })
}
