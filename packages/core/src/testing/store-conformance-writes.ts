import { describe, expect, it } from 'vitest'
import type { StoreWrite } from '../store/store-types.js'
import {
  type ConformanceHarness,
  markPending,
  reportFinished,
  reportStarted,
  seed,
  settle,
  T0,
  uniqueToken,
} from './store-conformance-harness.js'

/** write(): every StoreWrite and the rules between them. */
export function describeWriteConformance(h: ConformanceHarness): void {
  describe('write', () => {
    it('markPending sets pendingSince once; a later mark keeps the older one', async () => {
      await seed(h.store, ['icfg_a'])
      await settle(h.store, ['icfg_a'], T0 + 10)
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: false,
        pendingSince: null,
      })
      await h.store.write([markPending('icfg_a', T0 + 20)])
      await h.store.write([markPending('icfg_a', T0 + 30)])
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: true,
        pendingSince: T0 + 20,
      })
    })

    it('reportStarted persists lastTimestamp and lastAttemptAt', async () => {
      await seed(h.store, ['icfg_a'])
      const timestamp = '2023-11-14T22:13:20.123Z'
      await h.store.write([reportStarted('icfg_a', T0 + 5, timestamp)])
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        lastTimestamp: timestamp,
        lastAttemptAt: T0 + 5,
        updatedAt: T0 + 5,
        pending: true,
        lastOutcome: null,
      })
    })

    it('reportFinished(delivered, clearPending) records the delivery and clears pending', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.write([reportStarted('icfg_a', T0 + 5), reportFinished('icfg_a', T0 + 9)])
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: false,
        pendingSince: null,
        lastOutcome: 'delivered',
        lastStatus: 201,
        lastAttemptAt: T0 + 9,
        lastDeliveredAt: T0 + 9,
        updatedAt: T0 + 9,
        tokenState: 'active',
      })
    })

    it('reportFinished without clearPending keeps the change pending', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.write([reportFinished('icfg_a', T0 + 9)])
      await h.store.write([markPending('icfg_a', T0 + 10)])
      await h.store.write([
        reportFinished('icfg_a', T0 + 20, { outcome: 'failed', status: null, clearPending: false }),
      ])
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: true,
        pendingSince: T0 + 10,
        lastOutcome: 'failed',
        lastStatus: null,
        lastAttemptAt: T0 + 20,
        lastDeliveredAt: T0 + 9,
      })
    })

    it('changes the token state only for the token generation it names', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.saveCredentials('icfg_a', { accessToken: uniqueToken() }, T0 + 1) // generation 2
      const rejected = (tokenGeneration: number | undefined, at: number) =>
        reportFinished('icfg_a', at, {
          outcome: 'rejected',
          status: 401,
          tokenState: 'rejected',
          ...(tokenGeneration === undefined ? {} : { tokenGeneration }),
        })
      await h.store.write([rejected(1, T0 + 10)]) // a late 401 for the replaced token
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        tokenState: 'active',
        lastOutcome: 'rejected',
        lastStatus: 401,
      })
      await h.store.write([rejected(undefined, T0 + 11)]) // no generation: no state change
      expect((await h.store.getCredentials('icfg_a'))?.tokenState).toBe('active')
      await h.store.write([rejected(2, T0 + 12)])
      expect(await h.store.getCredentials('icfg_a')).toMatchObject({
        tokenState: 'rejected',
        tokenGeneration: 2,
      })
    })

    it('keeps a gone installation readable, with state "gone"', async () => {
      const tokens = await seed(h.store, ['icfg_a'])
      await h.store.write([
        reportFinished('icfg_a', T0 + 10, {
          outcome: 'gone',
          status: 410,
          tokenState: 'gone',
          tokenGeneration: 1,
        }),
      ])
      expect(await h.store.getCredentials('icfg_a')).toMatchObject({
        accessToken: tokens.get('icfg_a'),
        tokenState: 'gone',
      })
    })

    it('applies the writes of one batch in order', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b'])
      await settle(h.store, ['icfg_a', 'icfg_b'], T0 + 1)
      await h.store.write([
        markPending('icfg_a', T0 + 10),
        reportFinished('icfg_a', T0 + 11),
        reportFinished('icfg_b', T0 + 10),
        markPending('icfg_b', T0 + 11),
      ])
      expect((await h.store.getInstallation('icfg_a'))?.pending).toBe(false)
      expect(await h.store.getInstallation('icfg_b')).toMatchObject({
        pending: true,
        pendingSince: T0 + 11,
      })
    })

    it('ignores writes for unknown installations and applies the rest', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.write([
        markPending('icfg_ghost', T0 + 1),
        reportStarted('icfg_ghost', T0 + 2),
        reportStarted('icfg_a', T0 + 3),
        reportFinished('icfg_ghost', T0 + 4, { tokenState: 'gone', tokenGeneration: 1 }),
      ])
      expect(await h.store.getInstallation('icfg_ghost')).toBeNull()
      expect((await h.store.getInstallation('icfg_a'))?.lastAttemptAt).toBe(T0 + 3)
      expect(await h.store.listInstallationIds({ limit: 10 })).toEqual(['icfg_a'])
    })

    it('accepts an empty batch', async () => {
      await expect(h.store.write([])).resolves.toBeUndefined()
    })

    it('applies large batches and concurrent write() calls completely', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `icfg_${String(i).padStart(2, '0')}`)
      await seed(h.store, ids)
      await settle(h.store, ids, T0 + 100)
      const batch: StoreWrite[] = []
      for (let round = 0; round < 20; round++) {
        for (const id of ids) batch.push(reportStarted(id, T0 + 200 + round))
      }
      await h.store.write(batch)
      await Promise.all(ids.map((id, i) => h.store.write([markPending(id, T0 + 1000 + i)])))
      for (const [i, id] of ids.entries()) {
        expect(await h.store.getInstallation(id)).toMatchObject({
          lastAttemptAt: T0 + 219,
          pending: true,
          pendingSince: T0 + 1000 + i,
        })
      }
      expect(await h.store.listPending(100)).toEqual(ids)
    })
  })
}
