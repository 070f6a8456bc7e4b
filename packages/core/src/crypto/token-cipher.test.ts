import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import { generateEncryptionKey } from './generate-encryption-key.js'
import { createKeyring } from './keyring.js'
import { createTokenCipher, envelopeKeyId } from './token-cipher.js'

const TOKEN = 'vercel_access_token_0123456789abcdefghijklmnopqrstuvwxyz'

function decryptError(run: () => unknown): Error & { code: string } {
  try {
    run()
  } catch (error) {
    expect(isPrepaidBalancesError(error)).toBe(true)
    expect((error as Error).message).not.toContain(TOKEN)
    return error as Error & { code: string }
  }
  throw new Error('expected decrypt to throw')
}

/** Replaces part `index` of an envelope (0 version, 1 key id, 2 iv, 3 ciphertext, 4 tag). */
function withPart(envelope: string, index: number, change: (part: string) => string): string {
  const parts = envelope.split('.')
  parts[index] = change(parts[index]!)
  return parts.join('.')
}

const flipFirstChar = (part: string) => (part[0] === 'A' ? 'B' : 'A') + part.slice(1)

describe('createTokenCipher', () => {
  it('round-trips a token inside a v1.<keyId>.<iv>.<ciphertext>.<tag> envelope', () => {
    const cipher = createTokenCipher(`main:${generateEncryptionKey()}`)
    const envelope = cipher.encrypt(TOKEN, 'icfg_1')
    expect(envelope).toMatch(/^v1\.main\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/)
    expect(envelope).not.toContain(TOKEN)
    expect(envelopeKeyId(envelope)).toBe('main')
    expect(cipher.decrypt(envelope, 'icfg_1')).toBe(TOKEN)
  })

  it('round-trips any token text, multi-byte characters included', () => {
    const cipher = createTokenCipher(generateEncryptionKey())
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (token) => {
        expect(cipher.decrypt(cipher.encrypt(token, 'icfg_1'), 'icfg_1')).toBe(token)
      }),
    )
  })

  it('uses a fresh IV every time', () => {
    const cipher = createTokenCipher(generateEncryptionKey())
    const envelopes = new Set(Array.from({ length: 50 }, () => cipher.encrypt(TOKEN, 'icfg_1')))
    expect(envelopes.size).toBe(50)
  })

  it.each([
    ['the IV', 2],
    ['the ciphertext', 3],
    ['the tag', 4],
  ])('refuses a changed %s with ERR_DECRYPTION_FAILED', (_name, index) => {
    const cipher = createTokenCipher(generateEncryptionKey())
    const tampered = withPart(cipher.encrypt(TOKEN, 'icfg_1'), index, flipFirstChar)
    const error = decryptError(() => cipher.decrypt(tampered, 'icfg_1'))
    expect(error.code).toBe('ERR_DECRYPTION_FAILED')
    expect(error.message).toContain('"icfg_1"')
  })

  it('binds the installation id: another installation cannot use the envelope', () => {
    const cipher = createTokenCipher(generateEncryptionKey())
    const envelope = cipher.encrypt(TOKEN, 'icfg_owner')
    const error = decryptError(() => cipher.decrypt(envelope, 'icfg_other'))
    expect(error.code).toBe('ERR_DECRYPTION_FAILED')
  })

  it('binds the key id: relabelling an envelope with another id of the same key fails', () => {
    const key = generateEncryptionKey()
    const cipher = createTokenCipher(`a:${key}`)
    const reader = createTokenCipher(`a:${key},b:${key}`)
    const relabelled = withPart(cipher.encrypt(TOKEN, 'icfg_1'), 1, () => 'b')
    expect(decryptError(() => reader.decrypt(relabelled, 'icfg_1')).code).toBe(
      'ERR_DECRYPTION_FAILED',
    )
  })

  it.each([
    '',
    'not an envelope',
    'v2.main.a.b.c',
    'v1.main.a.b',
    'v1..a.b.c',
    'v1.main.AAAA.AAAA.AAAA',
  ])('refuses the malformed envelope %j with ERR_DECRYPTION_FAILED', (envelope) => {
    const cipher = createTokenCipher(`main:${generateEncryptionKey()}`)
    expect(decryptError(() => cipher.decrypt(envelope, 'icfg_1')).code).toBe(
      'ERR_DECRYPTION_FAILED',
    )
  })

  it('says which key id is missing, without showing any key', () => {
    const [oldKey, newKey] = [generateEncryptionKey(), generateEncryptionKey()]
    const envelope = createTokenCipher(`old:${oldKey}`).encrypt(TOKEN, 'icfg_1')
    const error = decryptError(() => createTokenCipher(`new:${newKey}`).decrypt(envelope, 'icfg_1'))
    expect(error.code).toBe('ERR_UNKNOWN_KEY_ID')
    expect(error.message).toContain('"old"')
    expect(error.message).toContain('"new"')
    expect(error.message).not.toContain(oldKey)
    expect(error.message).not.toContain(newKey)
  })

  it('accepts a parsed keyring', () => {
    const keyring = createKeyring(generateEncryptionKey())
    const cipher = createTokenCipher(keyring)
    expect(cipher.keyring).toBe(keyring)
    expect(cipher.decrypt(cipher.encrypt(TOKEN, 'icfg_1'), 'icfg_1')).toBe(TOKEN)
  })
})

describe('key rotation', () => {
  it('decrypts with older keys and flags their envelopes for re-encryption', () => {
    const [k1, k2] = [generateEncryptionKey(), generateEncryptionKey()]
    const before = createTokenCipher(`v1:${k1}`)
    const after = createTokenCipher(`v2:${k2},v1:${k1}`)
    const old = before.encrypt(TOKEN, 'icfg_1')
    expect(after.decrypt(old, 'icfg_1')).toBe(TOKEN)
    expect(after.needsReencryption(old)).toBe(true)
    const fresh = after.encrypt(TOKEN, 'icfg_1')
    expect(envelopeKeyId(fresh)).toBe('v2')
    expect(after.needsReencryption(fresh)).toBe(false)
    expect(createTokenCipher(`v2:${k2}`).decrypt(fresh, 'icfg_1')).toBe(TOKEN)
  })

  it('still decrypts tokens of a plain key after it moves into a keyring under an explicit id', () => {
    const [k1, k2] = [generateEncryptionKey(), generateEncryptionKey()]
    const plain = createTokenCipher(k1).encrypt(TOKEN, 'icfg_1')
    expect(createTokenCipher(`new:${k2},old:${k1}`).decrypt(plain, 'icfg_1')).toBe(TOKEN)
    // Same key, new label: readable, and nothing to re-encrypt.
    const renamed = createTokenCipher(`main:${k1}`)
    expect(renamed.decrypt(plain, 'icfg_1')).toBe(TOKEN)
    expect(renamed.needsReencryption(plain)).toBe(false)
  })

  it('flags unreadable envelopes for re-encryption so reencryptAll surfaces them', () => {
    const cipher = createTokenCipher(generateEncryptionKey())
    expect(cipher.needsReencryption('garbage')).toBe(true)
    expect(envelopeKeyId('garbage')).toBeNull()
  })
})

describe('generateEncryptionKey', () => {
  it('returns distinct base64 keys that decode to 32 bytes and are accepted', () => {
    const keys = Array.from({ length: 20 }, generateEncryptionKey)
    expect(new Set(keys).size).toBe(20)
    for (const key of keys) {
      expect(Buffer.from(key, 'base64')).toHaveLength(32)
      expect(() => createKeyring(key)).not.toThrow()
    }
  })
})
