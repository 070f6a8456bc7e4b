import { describe, expect, it } from 'vitest'
import type { InstallationRecord } from '../store/store-types.js'
import {
  type ConformanceHarness,
  markPending,
  reportFinished,
  reportStarted,
  seed,
  T0,
  uniqueToken,
} from './store-conformance-harness.js'

const RECORD_KEYS: ReadonlyArray<keyof InstallationRecord> = [
  'createdAt',
  'installationId',
  'lastAttemptAt',
  'lastDeliveredAt',
  'lastOutcome',
  'lastStatus',
  'lastTimestamp',
  'pending',
  'pendingSince',
  'tokenGeneration',
  'tokenState',
  'tokenType',
  'updatedAt',
]

/** saveCredentials, getCredentials, getInstallation, deleteInstallation, init. */
export function describeRecordConformance(h: ConformanceHarness): void {
  describe('credentials and records', () => {
    it('answers null for an unknown installation', async () => {
      expect(await h.store.getCredentials('icfg_unknown')).toBeNull()
      expect(await h.store.getInstallation('icfg_unknown')).toBeNull()
    })

    it('init() is idempotent', async () => {
      await h.store.init()
      await h.store.init()
      expect(await h.store.listInstallationIds({ limit: 10 })).toEqual([])
    })

    it('saves a new installation as active, generation 1, pending since `at`', async () => {
      const accessToken = uniqueToken()
      await h.store.saveCredentials('icfg_new', { accessToken, tokenType: 'Bearer' }, T0)
      expect(await h.store.getInstallation('icfg_new')).toEqual({
        installationId: 'icfg_new',
        tokenType: 'Bearer',
        tokenState: 'active',
        tokenGeneration: 1,
        pending: true,
        pendingSince: T0,
        lastTimestamp: null,
        lastAttemptAt: null,
        lastDeliveredAt: null,
        lastOutcome: null,
        lastStatus: null,
        createdAt: T0,
        updatedAt: T0,
      } satisfies InstallationRecord)
      expect(await h.store.getCredentials('icfg_new')).toEqual({
        accessToken,
        tokenType: 'Bearer',
        tokenState: 'active',
        tokenGeneration: 1,
      })
    })

    it('defaults tokenType to "Bearer" and keeps one that is given', async () => {
      await h.store.saveCredentials('icfg_a', { accessToken: uniqueToken() }, T0)
      await h.store.saveCredentials('icfg_b', { accessToken: uniqueToken(), tokenType: 'DPoP' }, T0)
      expect((await h.store.getCredentials('icfg_a'))?.tokenType).toBe('Bearer')
      expect((await h.store.getCredentials('icfg_b'))?.tokenType).toBe('DPoP')
      expect((await h.store.getInstallation('icfg_b'))?.tokenType).toBe('DPoP')
    })

    it('round-trips tokens byte for byte (long, unicode, punctuation)', async () => {
      const tokens = [
        'x',
        `${uniqueToken()}${'A'.repeat(4096)}`,
        'tök€n 🔑 with spaces, commas, "quotes" and \\ backslashes\nand newlines',
        'a.b.c.d.e',
      ]
      for (const [index, accessToken] of tokens.entries()) {
        await h.store.saveCredentials(`icfg_${index}`, { accessToken }, T0)
      }
      for (const [index, accessToken] of tokens.entries()) {
        expect((await h.store.getCredentials(`icfg_${index}`))?.accessToken).toBe(accessToken)
      }
    })

    it('replaces a token: active again, next generation, pending, history kept', async () => {
      await seed(h.store, ['icfg_a'])
      const timestamp = new Date(T0 + 1).toISOString()
      await h.store.write([
        reportStarted('icfg_a', T0 + 1, timestamp),
        reportFinished('icfg_a', T0 + 2, {
          outcome: 'rejected',
          status: 401,
          tokenState: 'rejected',
          tokenGeneration: 1,
        }),
      ])
      expect((await h.store.getInstallation('icfg_a'))?.tokenState).toBe('rejected')
      const accessToken = uniqueToken('new')
      await h.store.saveCredentials('icfg_a', { accessToken, tokenType: 'Bearer' }, T0 + 10)
      expect(await h.store.getInstallation('icfg_a')).toEqual({
        installationId: 'icfg_a',
        tokenType: 'Bearer',
        tokenState: 'active',
        tokenGeneration: 2,
        pending: true,
        pendingSince: T0 + 10,
        lastTimestamp: timestamp,
        lastAttemptAt: T0 + 2,
        lastDeliveredAt: null,
        lastOutcome: 'rejected',
        lastStatus: 401,
        createdAt: T0,
        updatedAt: T0 + 10,
      } satisfies InstallationRecord)
      expect(await h.store.getCredentials('icfg_a')).toMatchObject({
        accessToken,
        tokenState: 'active',
        tokenGeneration: 2,
      })
    })

    it('a re-save while still pending keeps the older pendingSince', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.saveCredentials('icfg_a', { accessToken: uniqueToken() }, T0 + 50)
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: true,
        pendingSince: T0,
        tokenGeneration: 2,
      })
    })

    it('never exposes the token in an installation record', async () => {
      const tokens = await seed(h.store, ['icfg_a'])
      const record = await h.store.getInstallation('icfg_a')
      expect(Object.keys(record ?? {}).sort()).toEqual(RECORD_KEYS)
      expect(JSON.stringify(record)).not.toContain(tokens.get('icfg_a'))
    })

    it('hands out copies: changing a returned record does not change the store', async () => {
      await seed(h.store, ['icfg_a'])
      const record = (await h.store.getInstallation('icfg_a'))!
      record.pending = false
      record.tokenState = 'gone'
      const credentials = (await h.store.getCredentials('icfg_a'))!
      credentials.tokenGeneration = 99
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        pending: true,
        tokenState: 'active',
        tokenGeneration: 1,
      })
    })

    it('deletes an installation: true once, then false; gone from every read and list', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b'])
      expect(await h.store.deleteInstallation('icfg_a')).toBe(true)
      expect(await h.store.deleteInstallation('icfg_a')).toBe(false)
      expect(await h.store.deleteInstallation('icfg_never')).toBe(false)
      expect(await h.store.getCredentials('icfg_a')).toBeNull()
      expect(await h.store.getInstallation('icfg_a')).toBeNull()
      expect(await h.store.listInstallationIds({ limit: 10 })).toEqual(['icfg_b'])
      expect(await h.store.listPending(10)).toEqual(['icfg_b'])
      expect(await h.store.listDue(T0 + 1000, 10)).toEqual(['icfg_b'])
      await h.store.write([markPending('icfg_a', T0 + 5)])
      expect(await h.store.getInstallation('icfg_a')).toBeNull()
    })

    it('an installation saved again after deletion starts afresh', async () => {
      await seed(h.store, ['icfg_a'])
      await h.store.write([reportStarted('icfg_a', T0 + 1), reportFinished('icfg_a', T0 + 2)])
      await h.store.deleteInstallation('icfg_a')
      await h.store.saveCredentials('icfg_a', { accessToken: uniqueToken() }, T0 + 10)
      expect(await h.store.getInstallation('icfg_a')).toMatchObject({
        tokenGeneration: 1,
        lastTimestamp: null,
        lastDeliveredAt: null,
        createdAt: T0 + 10,
      })
    })
  })
}
