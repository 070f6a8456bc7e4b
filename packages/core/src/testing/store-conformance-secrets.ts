import { describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { isPrepaidBalancesError } from '../errors.js'
import {
  type ConformanceHarness,
  reportFinished,
  reportStarted,
  seed,
  T0,
} from './store-conformance-harness.js'

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the promise to reject')
}

/** Encryption at rest, tampering, persistence and key rotation. */
export function describeSecretConformance(h: ConformanceHarness): void {
  const { ciphertext, reopen } = h.options

  describe('encryption', () => {
    it('re-encrypts nothing while every token is under the current key', async () => {
      await seed(h.store, ['icfg_a', 'icfg_b'])
      expect(await h.store.reencryptAll()).toEqual({ reencrypted: 0 })
    })

    it.runIf(ciphertext)(
      'stores a v1 envelope, never the token, with a fresh IV each time',
      async () => {
        await h.store.saveCredentials('icfg_a', { accessToken: 'same-token-value' }, T0)
        await h.store.saveCredentials('icfg_b', { accessToken: 'same-token-value' }, T0)
        const a = await ciphertext!.read(h.store, 'icfg_a')
        const b = await ciphertext!.read(h.store, 'icfg_b')
        expect(a).toMatch(
          /^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
        )
        expect(a).not.toContain('same-token-value')
        expect(a).not.toBe(b)
      },
    )

    it.runIf(ciphertext)('refuses a tampered ciphertext with ERR_DECRYPTION_FAILED', async () => {
      const tokens = await seed(h.store, ['icfg_a'])
      const envelope = (await ciphertext!.read(h.store, 'icfg_a'))!
      const parts = envelope.split('.')
      const body = parts[3]!
      parts[3] = (body[0] === 'A' ? 'B' : 'A') + body.slice(1)
      await ciphertext!.write(h.store, 'icfg_a', parts.join('.'))
      const error = await rejection(h.store.getCredentials('icfg_a'))
      expect(isPrepaidBalancesError(error, 'ERR_DECRYPTION_FAILED')).toBe(true)
      expect(error.message).not.toContain(tokens.get('icfg_a'))
      expect(error.message).toContain('icfg_a')
    })

    it.runIf(ciphertext)(
      "refuses a ciphertext copied into another installation's row",
      async () => {
        const tokens = await seed(h.store, ['icfg_a', 'icfg_b'])
        const envelopeOfA = (await ciphertext!.read(h.store, 'icfg_a'))!
        await ciphertext!.write(h.store, 'icfg_b', envelopeOfA)
        const error = await rejection(h.store.getCredentials('icfg_b'))
        expect(isPrepaidBalancesError(error, 'ERR_DECRYPTION_FAILED')).toBe(true)
        expect(error.message).not.toContain(tokens.get('icfg_a'))
        expect((await h.store.getCredentials('icfg_a'))?.accessToken).toBe(tokens.get('icfg_a'))
      },
    )
  })

  describe.runIf(reopen)('persistence and key rotation', () => {
    it('keeps every record and token across a reopen', async () => {
      const ids = ['icfg_a', 'icfg_b']
      const tokens = await seed(h.store, ids)
      await h.store.write([reportStarted('icfg_a', T0 + 5), reportFinished('icfg_a', T0 + 6)])
      const before = await Promise.all(ids.map((id) => h.store.getInstallation(id)))
      const store = await h.reopen(h.encryptionKey)
      expect(await Promise.all(ids.map((id) => store.getInstallation(id)))).toEqual(before)
      for (const id of ids) {
        expect((await store.getCredentials(id))?.accessToken).toBe(tokens.get(id))
      }
      expect(await store.listPending(10)).toEqual(['icfg_b'])
    })

    it('rotates keys: old key decrypts, reencryptAll moves tokens, the old key can retire', async () => {
      const original = h.encryptionKey
      const rotated = generateEncryptionKey()
      const ids = ['icfg_a', 'icfg_b', 'icfg_c']
      const tokens = await seed(h.store, ids)
      // Token states do not matter for re-encryption: every stored token moves.
      await h.store.write([
        reportFinished('icfg_c', T0 + 5, {
          outcome: 'rejected',
          tokenState: 'rejected',
          tokenGeneration: 1,
        }),
      ])

      // The plain key moves into a keyring under an explicit id; a new key goes first.
      let store = await h.reopen(`rotated:${rotated}, original:${original}`)
      for (const id of ids) {
        expect((await store.getCredentials(id))?.accessToken).toBe(tokens.get(id))
      }
      expect(await store.reencryptAll()).toEqual({ reencrypted: 3 })
      expect(await store.reencryptAll()).toEqual({ reencrypted: 0 })
      if (ciphertext) expect(await ciphertext.read(store, 'icfg_a')).toMatch(/^v1\.rotated\./)

      // Retire the original key.
      store = await h.reopen(`rotated:${rotated}`)
      for (const id of ids) {
        expect((await store.getCredentials(id))?.accessToken).toBe(tokens.get(id))
      }

      // Without the rotated key the error names the missing key id and shows no key material.
      store = await h.reopen(original)
      const error = await rejection(store.getCredentials('icfg_a'))
      expect(isPrepaidBalancesError(error, 'ERR_UNKNOWN_KEY_ID')).toBe(true)
      expect(error.message).toContain('"rotated"')
      expect(error.message).not.toContain(rotated)
      expect(error.message).not.toContain(original)
    })
  })

  describe('lifecycle', () => {
    it('close() can be called twice', async () => {
      await h.store.close()
      await h.store.close()
    })
  })
}
