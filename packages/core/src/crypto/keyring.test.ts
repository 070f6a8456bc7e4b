import { createHash, randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import { generateEncryptionKey } from './generate-encryption-key.js'
import { createKeyring, type EncryptionKeyInput, isKeyring } from './keyring.js'

const fingerprint = (base64Key: string) =>
  `k${createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('hex').slice(0, 8)}`

/** Throws from `createKeyring`, asserting the code and that no key material leaks. */
function keyringError(input: EncryptionKeyInput, secrets: string[] = []): string {
  try {
    createKeyring(input)
  } catch (error) {
    expect(isPrepaidBalancesError(error, 'ERR_ENCRYPTION_KEY')).toBe(true)
    const message = (error as Error).message
    for (const secret of secrets) expect(message).not.toContain(secret)
    expect(message).toContain('randomBytes(32)') // every message says how to get a valid key
    return message
  }
  throw new Error('expected createKeyring to throw')
}

describe('createKeyring', () => {
  it('accepts one base64 key and names it by its fingerprint', () => {
    const key = generateEncryptionKey()
    const keyring = createKeyring(key)
    expect(keyring.currentKeyId).toBe(fingerprint(key))
    expect(keyring.currentKeyId).toMatch(/^k[0-9a-f]{8}$/)
    expect(keyring.keyIds).toEqual([keyring.currentKeyId])
  })

  it('accepts url-safe base64, missing padding, hex, and surrounding whitespace', () => {
    const bytes = randomBytes(32)
    const ids = [
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('hex'),
      `  ${bytes.toString('base64')}\n`,
    ].map((text) => createKeyring(text).currentKeyId)
    expect(new Set(ids).size).toBe(1)
  })

  it('parses a keyring string: the first entry encrypts, all decrypt', () => {
    const [k1, k2, k3] = [generateEncryptionKey(), generateEncryptionKey(), generateEncryptionKey()]
    const keyring = createKeyring(`v3:${k3}, v2:${k2}\n  v1:${k1}`)
    expect(keyring.currentKeyId).toBe('v3')
    expect(keyring.keyIds).toEqual(['v3', 'v2', 'v1'])
    for (const id of ['v1', 'v2', 'v3']) expect(keyring.hasKey(id)).toBe(true)
    expect(keyring.hasKey('v4')).toBe(false)
  })

  it('parses an array of entries, and entries without an id', () => {
    const [k1, k2] = [generateEncryptionKey(), generateEncryptionKey()]
    const keyring = createKeyring([`new:${k2}`, k1])
    expect(keyring.keyIds).toEqual(['new', fingerprint(k1)])
  })

  it('also finds keys with an explicit id by their fingerprint id', () => {
    const [k1, k2] = [generateEncryptionKey(), generateEncryptionKey()]
    const keyring = createKeyring(`new:${k2},old:${k1}`)
    expect(keyring.hasKey(fingerprint(k1))).toBe(true)
    expect(keyring.hasKey(fingerprint(k2))).toBe(true)
    expect(keyring.isCurrentKey('new')).toBe(true)
    expect(keyring.isCurrentKey(fingerprint(k2))).toBe(true)
    expect(keyring.isCurrentKey('old')).toBe(false)
    expect(keyring.isCurrentKey(fingerprint(k1))).toBe(false)
  })

  it('passes a keyring through unchanged', () => {
    const keyring = createKeyring(generateEncryptionKey())
    expect(createKeyring(keyring)).toBe(keyring)
    expect(isKeyring(keyring)).toBe(true)
    expect(isKeyring({ ...keyring })).toBe(false)
  })

  it('keeps key material out of inspect() and JSON', () => {
    const key = generateEncryptionKey()
    const keyring = createKeyring(`main:${key}`)
    const shown = inspect(keyring, { showHidden: true, depth: 5 }) + JSON.stringify(keyring)
    expect(shown).not.toContain(key)
    expect(shown).not.toContain(Buffer.from(key, 'base64').toString('hex'))
  })
})

describe('createKeyring errors (ERR_ENCRYPTION_KEY, never echoing a key)', () => {
  it.each([undefined, null, '', '  ,\n ', [], 42])('rejects a missing key: %j', (input) => {
    expect(keyringError(input as unknown as EncryptionKeyInput)).toMatch(
      /missing|expected a string/,
    )
  })

  it('rejects keys that are not 32 bytes, saying how long they are', () => {
    const short = randomBytes(16).toString('base64')
    const long = randomBytes(48).toString('base64')
    expect(keyringError(short, [short])).toMatch(/16 bytes/)
    expect(keyringError(`a:${generateEncryptionKey()},b:${long}`, [long])).toMatch(
      /entry 2 of the keyring \(id "b"\) decodes to 48 bytes/,
    )
  })

  it('rejects text that is not base64', () => {
    const notBase64 = `${generateEncryptionKey().slice(0, 40)}!!!!`
    expect(keyringError(notBase64, [notBase64])).toMatch(/not valid base64/)
    const passphrase = 'correct horse battery staple'
    keyringError(passphrase, ['correct', 'horse', 'battery', 'staple'])
  })

  it('rejects invalid ids without echoing them (they may be a key pasted the wrong way round)', () => {
    const key = generateEncryptionKey()
    const reversed = `${key}:v1`
    expect(keyringError(reversed, [key, key.slice(0, 20)])).toMatch(/invalid id/)
    expect(keyringError(`:${key}`, [key])).toMatch(/invalid id/)
    expect(keyringError(`bad.id:${key}`, [key])).toMatch(/invalid id/)
    expect(keyringError(`${'x'.repeat(33)}:${key}`, [key])).toMatch(/invalid id/)
  })

  it('rejects an id with no key', () => {
    expect(keyringError(`v2:, v1:${generateEncryptionKey()}`)).toMatch(/entry 1/)
  })

  it('rejects duplicate ids', () => {
    const [k1, k2] = [generateEncryptionKey(), generateEncryptionKey()]
    expect(keyringError(`v1:${k1},v1:${k2}`, [k1, k2])).toMatch(/"v1" appears twice/)
    expect(keyringError(`${k1},${k1}`, [k1])).toMatch(/appears twice/)
  })
})
