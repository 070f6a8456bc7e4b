import { describe, expect, it } from 'vitest'
import {
  type ConformanceHarness,
  markPending,
  rejectGeneration1,
  reportFinished,
  reportStarted,
  seed,
  settle,
  T0,
} from './store-conformance-harness.js'

/** listInstallationIds, listPending, listDue. */
export function describeListConformance(h: ConformanceHarness): void {
  describe('listInstallationIds', () => {
    it('lists active installations ascending by id, skipping rejected and gone', async () => {
      await seed(h.store, ['icfg_c', 'icfg_a', 'icfg_e', 'icfg_b', 'icfg_d'])
      await h.store.write([
        rejectGeneration1('icfg_b', T0 + 10),
        reportFinished('icfg_d', T0 + 10, {
          outcome: 'gone',
          status: 404,
          tokenState: 'gone',
          tokenGeneration: 1,
        }),
      ])
      expect(await h.store.listInstallationIds({ limit: 100 })).toEqual([
        'icfg_a',
        'icfg_c',
        'icfg_e',
      ])
    })

    it('pages with `after` and `limit`, each id exactly once', async () => {
      const ids = Array.from({ length: 23 }, (_, i) => `icfg_${String(i).padStart(3, '0')}`)
      await seed(h.store, [...ids].reverse())
      const seen: string[] = []
      let after: string | undefined
      for (let page = 0; page < 10; page++) {
        const next = await h.store.listInstallationIds(
          after === undefined ? { limit: 5 } : { after, limit: 5 },
        )
        expect(next.length).toBeLessThanOrEqual(5)
        if (next.length === 0) break
        seen.push(...next)
        after = next[next.length - 1]
      }
      expect(seen).toEqual(ids)
    })

    it('`after` need not be an existing id', async () => {
      await seed(h.store, ['icfg_a', 'icfg_c', 'icfg_e'])
      expect(await h.store.listInstallationIds({ after: 'icfg_b', limit: 10 })).toEqual([
        'icfg_c',
        'icfg_e',
      ])
      expect(await h.store.listInstallationIds({ after: 'icfg_z', limit: 10 })).toEqual([])
    })
  })

  describe('listPending', () => {
    it('lists pending active installations, oldest pendingSince first, up to `limit`', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c', 'icfg_d'])
      await settle(h.store, ['icfg_a', 'icfg_b', 'icfg_c', 'icfg_d'], T0 + 10)
      expect(await h.store.listPending(10)).toEqual([])
      await h.store.write([
        markPending('icfg_c', T0 + 20),
        markPending('icfg_a', T0 + 30),
        markPending('icfg_d', T0 + 40),
        markPending('icfg_c', T0 + 50), // already pending: keeps T0 + 20
      ])
      expect(await h.store.listPending(10)).toEqual(['icfg_c', 'icfg_a', 'icfg_d'])
      expect(await h.store.listPending(2)).toEqual(['icfg_c', 'icfg_a'])
    })

    it('leaves out installations whose token is rejected or gone', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c'])
      await h.store.write([
        rejectGeneration1('icfg_a', T0 + 10),
        reportFinished('icfg_b', T0 + 10, {
          outcome: 'gone',
          status: 410,
          clearPending: false,
          tokenState: 'gone',
          tokenGeneration: 1,
        }),
      ])
      expect((await h.store.getInstallation('icfg_a'))?.pending).toBe(true)
      expect(await h.store.listPending(10)).toEqual(['icfg_c'])
    })

    it('lists an installation again once a new token replaces a rejected one', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.write([rejectGeneration1('icfg_a', T0 + 10)])
      expect(await h.store.listPending(10)).toEqual([])
      await h.store.saveCredentials('icfg_a', { accessToken: 'replacement' }, T0 + 20)
      expect(await h.store.listPending(10)).toEqual(['icfg_a'])
    })
  })

  describe('listDue', () => {
    it('lists never-attempted installations first, then the oldest attempts', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c', 'icfg_d'])
      await h.store.write([
        reportStarted('icfg_a', T0 + 300),
        reportStarted('icfg_c', T0 + 100),
        reportStarted('icfg_d', T0 + 200),
      ])
      expect(await h.store.listDue(T0 + 1000, 10)).toEqual(['icfg_b', 'icfg_c', 'icfg_d', 'icfg_a'])
      expect(await h.store.listDue(T0 + 1000, 2)).toEqual(['icfg_b', 'icfg_c'])
    })

    it('includes only attempts strictly older than `before`', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b', 'icfg_c'])
      await h.store.write([
        reportStarted('icfg_a', T0 + 100),
        reportStarted('icfg_b', T0 + 200),
        reportStarted('icfg_c', T0 + 300),
      ])
      expect(await h.store.listDue(T0 + 200, 10)).toEqual(['icfg_a'])
      expect(await h.store.listDue(T0 + 201, 10)).toEqual(['icfg_a', 'icfg_b'])
      expect(await h.store.listDue(T0, 10)).toEqual([])
    })

    it('counts a finished report as an attempt and moves it to the back', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b'])
      await h.store.write([reportStarted('icfg_a', T0 + 100), reportStarted('icfg_b', T0 + 200)])
      await h.store.write([reportStarted('icfg_a', T0 + 300), reportFinished('icfg_a', T0 + 310)])
      expect(await h.store.listDue(T0 + 1000, 10)).toEqual(['icfg_b', 'icfg_a'])
      expect((await h.store.getInstallation('icfg_a'))?.lastAttemptAt).toBe(T0 + 310)
    })

    it('leaves out installations whose token is rejected or gone', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b'])
      await h.store.write([rejectGeneration1('icfg_a', T0 + 10)])
      expect(await h.store.listDue(T0 + 1000, 10)).toEqual(['icfg_b'])
    })
  })
}
