import { randomBytes } from 'node:crypto'
import { KEY_BYTES } from './key-material.js'

/**
 * A fresh random 32-byte key in base64, ready for `encryptionKey` (or as one keyring entry).
 * Keep it secret and stable: tokens stored under it cannot be read without it.
 *
 * @example
 * // once, then store the output in a secret manager / environment variable:
 * console.log(generateEncryptionKey())
 * // rotation: `${newId}:${generateEncryptionKey()},${oldId}:${oldKey}`, then store.reencryptAll()
 */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64')
}
