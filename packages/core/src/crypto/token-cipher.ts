import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { PrepaidBalancesError } from '../errors.js'
import {
  createKeyring,
  currentKey,
  type EncryptionKeyInput,
  type Keyring,
  keyForId,
} from './keyring.js'

const VERSION = 'v1'
const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Encrypts access tokens into self-describing envelopes:
 * `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts). The additional authenticated data binds
 * the version, key id and installation id, so an envelope copied into another installation's row,
 * or relabelled with another key id, fails to decrypt instead of yielding someone else's token.
 */
export interface TokenCipher {
  readonly keyring: Keyring
  encrypt(accessToken: string, installationId: string): string
  /** Throws `ERR_UNKNOWN_KEY_ID` or `ERR_DECRYPTION_FAILED`; never includes the token. */
  decrypt(envelope: string, installationId: string): string
  /** True if the envelope is not under the keyring's current key (or is unreadable). */
  needsReencryption(envelope: string): boolean
}

/**
 * Builds the cipher every store uses, so all stores encrypt identically.
 *
 * @example
 * const cipher = createTokenCipher(process.env.BALANCES_ENCRYPTION_KEY ?? '')
 * const envelope = cipher.encrypt(accessToken, 'icfg_123')
 * cipher.decrypt(envelope, 'icfg_123') === accessToken // true
 */
export function createTokenCipher(encryptionKey: EncryptionKeyInput | Keyring): TokenCipher {
  const keyring = createKeyring(encryptionKey)
  const keyId = keyring.currentKeyId
  const key = currentKey(keyring)
  return {
    keyring,
    encrypt(accessToken, installationId) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv(ALGORITHM, key, iv)
      cipher.setAAD(additionalData(keyId, installationId))
      const ciphertext = Buffer.concat([cipher.update(accessToken, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return `${VERSION}.${keyId}.${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`
    },
    decrypt(envelope, installationId) {
      const parts = typeof envelope === 'string' ? envelope.split('.') : []
      const [version, envelopeKeyId, iv, ciphertext, tag] = parts
      if (parts.length !== 5 || version !== VERSION || !envelopeKeyId) {
        throw decryptionFailed(installationId, 'it is not a v1 token envelope')
      }
      const envelopeKey = keyForId(keyring, envelopeKeyId)
      if (!envelopeKey) throw unknownKeyId(installationId, envelopeKeyId, keyring)
      const ivBytes = Buffer.from(iv!, 'base64url')
      const tagBytes = Buffer.from(tag!, 'base64url')
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
        throw decryptionFailed(installationId, 'the envelope is malformed')
      }
      try {
        const decipher = createDecipheriv(ALGORITHM, envelopeKey, ivBytes)
        decipher.setAAD(additionalData(envelopeKeyId, installationId))
        decipher.setAuthTag(tagBytes)
        // One Buffer decoded once: cheaper than a per-call StringDecoder (`update(…, 'utf8')`)
        // or a Buffer.concat; this runs once per report. GCM's final() adds no bytes, it checks
        // the tag (and throws if it does not match) before any plaintext is returned.
        const plaintext = decipher.update(Buffer.from(ciphertext!, 'base64url'))
        const tail = decipher.final()
        const token =
          tail.length === 0
            ? plaintext.toString('utf8')
            : Buffer.concat([plaintext, tail]).toString('utf8')
        plaintext.fill(0) // the token's bytes do not linger outside the string handed back
        return token
      } catch (cause) {
        throw decryptionFailed(
          installationId,
          'it was modified, copied from another installation, or written under a different key with the same id',
          cause,
        )
      }
    },
    needsReencryption(envelope) {
      const keyIdInEnvelope = envelopeKeyId(envelope)
      return keyIdInEnvelope === null || !keyring.isCurrentKey(keyIdInEnvelope)
    },
  }
}

/** The key id an envelope was written under, or null if it is not a v1 envelope. */
export function envelopeKeyId(envelope: string): string | null {
  if (typeof envelope !== 'string' || !envelope.startsWith(`${VERSION}.`)) return null
  const end = envelope.indexOf('.', VERSION.length + 1)
  return end === -1 ? null : envelope.slice(VERSION.length + 1, end)
}

// NUL-separated so no (keyId, installationId) pair can be confused with another; key ids hold no
// NUL and the installation id comes last.
function additionalData(keyId: string, installationId: string): Buffer {
  return Buffer.from(`prepaid-balances:token:${VERSION}\0${keyId}\0${installationId}`, 'utf8')
}

function decryptionFailed(installationId: string, reason: string, cause?: unknown) {
  return new PrepaidBalancesError(
    'ERR_DECRYPTION_FAILED',
    `Could not decrypt the access token of installation "${installationId}": ${reason}. ` +
      'Save the installation again (a new Upsert Installation) to replace it.',
    cause === undefined ? undefined : { cause },
  )
}

function unknownKeyId(installationId: string, keyId: string, keyring: Keyring) {
  return new PrepaidBalancesError(
    'ERR_UNKNOWN_KEY_ID',
    `The access token of installation "${installationId}" was encrypted with key id "${keyId}", ` +
      `which is not in encryptionKey (it has ${keyring.keyIds.map((id) => `"${id}"`).join(', ')}). ` +
      `Add that key back to the keyring (e.g. "${keyring.currentKeyId}:<current key>,${keyId}:<old key>") ` +
      'and run reencryptAll() before retiring it.',
  )
}
