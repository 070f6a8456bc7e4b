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
