import { describe, expect, it, type TestContext } from 'vitest'
import type { LeaseClaim } from '../store/store-types.js'
import {
  type ConformanceHarness,
  leasesOf as leasesOfHarness,
  markPending,
  rejectGeneration1,
  reportFinished,
  reportStarted,
  seed,
  settle,
  T0,
} from './store-conformance-harness.js'

const LONG = 60_000
const statuses = (claims: LeaseClaim[]) => claims.map((claim) => claim.status)

/**
 * `leases.claimMany`: a page of claims in one store operation, with exactly the results of
 * calling `claim` for each entry in turn.
 */
export function describeClaimManyConformance(h: ConformanceHarness): void {
  describe('leases.claimMany', () => {
    const leasesOf = (ctx: TestContext) => leasesOfHarness(h, ctx)

    it('gives what one claim each would: claimed, busy, idle, inactive, unknown in one batch', async (ctx) => {
      const leases = leasesOf(ctx)
      const ids = ['icfg_a', 'icfg_b', 'icfg_c', 'icfg_d', 'icfg_e']
      const tokens = await seed(h.store, ids)
      await settle(h.store, ids, T0 + 1)
      await h.store.write([
        markPending('icfg_a', T0 + 2),
        rejectGeneration1('icfg_d', T0 + 3),
        markPending('icfg_e', T0 + 4),
      ])
      const held = await leases.claim('icfg_b', { token: 'other', leaseMs: 10_000 })
      expect(held.status).toBe('claimed')
      const batch = [
        { installationId: 'icfg_a', token: 'ta' }, // pending: owed
        { installationId: 'icfg_b', token: 'tb' }, // another claim holds it
        { installationId: 'icfg_c', token: 'tc' }, // nothing owed
        { installationId: 'icfg_ghost', token: 'tg' },
        { installationId: 'icfg_d', token: 'td' }, // token refused
        { installationId: 'icfg_a', token: 'ta2' }, // taken by the first entry
        { installationId: 'icfg_e', token: 'te' },
      ]
      const claims = await leases.claimMany(batch, { leaseMs: LONG, onlyIf: { pending: true } })
      expect(statuses(claims)).toEqual([
        'claimed',
        'busy',
        'idle',
        'unknown',
        'inactive',
        'busy',
        'claimed',
      ])
      expect(claims[0]).toMatchObject({
        credentials: {
          accessToken: tokens.get('icfg_a'),
          tokenState: 'active',
          tokenGeneration: 1,
        },
        lastTimestamp: null,
      })
      expect(claims[6]).toMatchObject({ credentials: { accessToken: tokens.get('icfg_e') } })
      expect(claims[4]).toEqual({ status: 'inactive', tokenState: 'rejected' })
      for (const busy of [claims[1], claims[5]] as Array<{ retryInMs: number }>) {
        expect(busy.retryInMs).toBeGreaterThan(0)
        expect(busy.retryInMs).toBeLessThanOrEqual(LONG)
      }
      // icfg_c is not owed with onlyIf, but is with idleMs 0 (or without onlyIf).
      const idle = await leases.claimMany([{ installationId: 'icfg_c', token: 'tc' }], {
        leaseMs: LONG,
        onlyIf: { pending: true, idleMs: 0 },
      })
      expect(statuses(idle)).toEqual(['claimed'])
      expect(await leases.claimMany([], { leaseMs: LONG })).toEqual([])
    })

    it('takes leases that behave like single claims: busy to others, renewed, released, finished', async (ctx) => {
      const leases = leasesOf(ctx)
      const ids = ['icfg_a', 'icfg_b', 'icfg_c']
      await seed(h.store, ids)
      const claims = await leases.claimMany(
        ids.map((installationId) => ({ installationId, token: `t_${installationId}` })),
        { leaseMs: LONG },
      )
      expect(statuses(claims)).toEqual(['claimed', 'claimed', 'claimed'])
      for (const id of ids) {
        expect((await leases.claim(id, { token: 'other', leaseMs: LONG })).status).toBe('busy')
      }
      const held = ids.map((installationId) => ({ installationId, token: `t_${installationId}` }))
      expect((await leases.renew(held, LONG)).sort()).toEqual(held.map((l) => l.token).sort())
      await leases.release(held[0]!)
      const a = claims[1] as Extract<LeaseClaim, { status: 'claimed' }>
      await h.store.write([
        reportFinished('icfg_b', T0 + 5, {
          lease: { token: 't_icfg_b', pendingSeq: a.pendingSeq },
        }),
      ])
      const again = await leases.claimMany(
        ids.map((installationId) => ({ installationId, token: 'again' })),
        { leaseMs: LONG },
      )
      expect(statuses(again)).toEqual(['claimed', 'claimed', 'busy'])
      expect(await h.store.getInstallation('icfg_b')).toMatchObject({ pending: false })
    })

    it('hands each installation to one caller when batches and single claims overlap', async (ctx) => {
      const leases = leasesOf(ctx)
      const ids = Array.from({ length: 20 }, (_, i) => `icfg_${String(i).padStart(2, '0')}`)
      await seed(h.store, ids)
      const batch = (order: string[], caller: number) =>
        leases.claimMany(
          order.map((installationId) => ({
            installationId,
            token: `c${caller}_${installationId}`,
          })),
          { leaseMs: LONG },
        )
      // Opposite orders: a store that locked rows in input order could deadlock here.
      const results = await Promise.all([
        batch(ids, 0),
        batch([...ids].reverse(), 1),
        batch(
          ids.filter((_, i) => i % 2 === 0),
          2,
        ),
        ...ids.slice(0, 5).map((id) => leases.claim(id, { token: `single_${id}`, leaseMs: LONG })),
      ])
      const reversed = [...ids].reverse()
      const evens = ids.filter((_, i) => i % 2 === 0)
      const asked = [ids, reversed, evens, ...ids.slice(0, 5).map((id) => [id])]
      const winners = new Map<string, number>()
      for (const [caller, result] of results.entries()) {
        const claims = Array.isArray(result) ? result : [result]
        for (const [i, claim] of claims.entries()) {
          expect(['claimed', 'busy']).toContain(claim.status)
          const id = asked[caller]![i]!
          if (claim.status === 'claimed') winners.set(id, (winners.get(id) ?? 0) + 1)
        }
      }
      expect(Object.fromEntries(winners)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
    })

    it('reserves each claimed installation its next timestamp in the same step, after the stored one', async (ctx) => {
      const leases = leasesOf(ctx)
      const ids = ['icfg_a', 'icfg_b', 'icfg_c', 'icfg_d', 'icfg_e']
      await seed(h.store, ids)
      const from = Date.UTC(2031, 1, 28, 23, 59, 59, 999) // a day, month and ms boundary ahead
      const later = '2031-03-01T00:00:00.500Z' // stored by a host whose clock runs ahead
      await h.store.write([
        reportStarted('icfg_b', T0 + 1, later),
        reportStarted('icfg_c', T0 + 1, 'not a timestamp'), // counts as none, as in the reporter
        reportStarted('icfg_d', T0 + 1, later),
      ])
      await settle(h.store, ['icfg_e'], T0 + 2)
      const before = await h.store.getInstallation('icfg_d')
      expect((await leases.claim('icfg_d', { token: 'other', leaseMs: LONG })).status).toBe(
        'claimed',
      )
      const batch = ids.map((installationId) => ({ installationId, token: `t_${installationId}` }))
      const claims = await leases.claimMany(batch, {
        leaseMs: LONG,
        onlyIf: { pending: true },
        reserveTimestamp: { from },
      })
      expect(statuses(claims)).toEqual(['claimed', 'claimed', 'claimed', 'busy', 'idle'])
      expect(claims.slice(0, 3)).toMatchObject([
        { lastTimestamp: null, reservedTimestamp: '2031-02-28T23:59:59.999Z' },
        { lastTimestamp: later, reservedTimestamp: '2031-03-01T00:00:00.501Z' },
        { lastTimestamp: 'not a timestamp', reservedTimestamp: '2031-02-28T23:59:59.999Z' },
      ])
      // Stored before the claim returned: the next report of any process starts after it.
      const stored = await Promise.all(ids.map((id) => h.store.getInstallation(id)))
      expect(stored.map((record) => record?.lastTimestamp)).toEqual([
        '2031-02-28T23:59:59.999Z',
        '2031-03-01T00:00:00.501Z',
        '2031-02-28T23:59:59.999Z',
        later, // busy: untouched
        null, // idle: untouched
      ])
      // Only the timestamp: the reservation is no report attempt.
      expect(stored[0]).toMatchObject({ lastAttemptAt: null, pending: true })
      expect(stored[3]).toEqual(before)
    })

    it('never reserves a timestamp twice, whatever clock the next claim brings; none without the option', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      const from = Date.UTC(2030, 0, 1)
      const reserve = async (at: number, token: string) => {
        const [claim] = await leases.claimMany([{ installationId: 'icfg_a', token }], {
          leaseMs: LONG,
          reserveTimestamp: { from: at },
        })
        await leases.release({ installationId: 'icfg_a', token })
        return (claim as Extract<LeaseClaim, { status: 'claimed' }>).reservedTimestamp
      }
      const first = await reserve(from, 't1')
      // The same instant again (a reservation no report used), then a clock that went back.
      const second = await reserve(from, 't2')
      const third = await reserve(from - 3_600_000, 't3')
      expect([first, second, third]).toEqual([
        '2030-01-01T00:00:00.000Z',
        '2030-01-01T00:00:00.001Z',
        '2030-01-01T00:00:00.002Z',
      ])
      const [plain] = await leases.claimMany([{ installationId: 'icfg_a', token: 't4' }], {
        leaseMs: LONG,
      })
      expect(plain).toMatchObject({ status: 'claimed', lastTimestamp: third })
      expect(plain).not.toHaveProperty('reservedTimestamp')
      expect((await h.store.getInstallation('icfg_a'))?.lastTimestamp).toBe(third)
    })

    it('reserves timestamps in the order concurrent batches win the lease, never the same one', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      const from = Date.UTC(2030, 0, 1)
      const reserved: string[] = []
      // Several replicas claim the same installation with the same clock, one after another's
      // release: each reservation is later than every earlier one.
      await Promise.all(
        Array.from({ length: 4 }, async (_, caller) => {
          for (let round = 0; round < 5; round++) {
            const token = `c${caller}_${round}`
            const [claim] = await leases.claimMany([{ installationId: 'icfg_a', token }], {
              leaseMs: LONG,
              reserveTimestamp: { from },
            })
            if (claim?.status !== 'claimed') continue
            reserved.push(claim.reservedTimestamp!)
            await leases.release({ installationId: 'icfg_a', token })
          }
        }),
      )
      expect(reserved.length).toBeGreaterThan(0)
      expect(new Set(reserved).size).toBe(reserved.length)
      expect([...reserved].sort()).toEqual(reserved) // taken in lease order
    })

    it('refuses a reservation time that is no epoch ms with ERR_STORE, claiming nothing', async (ctx) => {
      const leases = leasesOf(ctx)
      await seed(h.store, ['icfg_a'])
      const claims = [{ installationId: 'icfg_a', token: 't' }]
      for (const from of [-1, 1.5, Number.NaN, '1'] as unknown as number[]) {
        await expect(
          leases.claimMany(claims, { leaseMs: LONG, reserveTimestamp: { from } }),
        ).rejects.toMatchObject({ code: 'ERR_STORE' })
      }
      expect((await leases.claim('icfg_a', { token: 't2', leaseMs: LONG })).status).toBe('claimed')
      expect((await h.store.getInstallation('icfg_a'))?.lastTimestamp).toBeNull()
    })

    it('refuses a tampered token with ERR_DECRYPTION_FAILED and keeps none of the batch', async (ctx) => {
      const leases = leasesOf(ctx)
      const { ciphertext } = h.options
      if (!ciphertext) return ctx.skip('needs options.ciphertext')
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c'])
      await ciphertext.write(h.store, 'icfg_b', (await ciphertext.read(h.store, 'icfg_c'))!)
      const batch = ['icfg_a', 'icfg_b', 'icfg_c'].map((installationId) => ({
        installationId,
        token: 't',
      }))
      await expect(leases.claimMany(batch, { leaseMs: LONG })).rejects.toMatchObject({
        code: 'ERR_DECRYPTION_FAILED',
      })
      // Nothing is left held: the same claims go through again.
      const a = await leases.claim('icfg_a', { token: 't2', leaseMs: LONG })
      const c = await leases.claim('icfg_c', { token: 't2', leaseMs: LONG })
      expect([a.status, c.status]).toEqual(['claimed', 'claimed'])
    })
  })
}
