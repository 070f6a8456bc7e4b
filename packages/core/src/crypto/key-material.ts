import { createHash } from 'node:crypto'
import { PrepaidBalancesError } from '../errors.js'

/** Bytes in an AES-256 key. */
export const KEY_BYTES = 32

/** Ids are written into every envelope and shown in errors, so they stay short and plain. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/

export const GENERATE_KEY_HINT =
  'generate one with `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`'

const BASE64_PATTERN = /^[A-Za-z0-9+/_-]+={0,2}$/
const HEX_KEY_PATTERN = /^[0-9a-fA-F]{64}$/

/**
 * The id a key gets when none is given: `k` + 8 hex chars of its SHA-256. Keyrings register every
 * key under this id too, so tokens written under a plain key still decrypt after the key moves
 * into a keyring under an explicit id. (A SHA-256 prefix of 32 random bytes reveals nothing.)
 */
export function fingerprintKeyId(key: Buffer): string {
  return `k${createHash('sha256').update(key).digest('hex').slice(0, 8)}`
}

/**
 * Decodes a key written as base64 (standard or url-safe, padding optional) or as 64 hex digits
 * (what `openssl rand -hex 32` prints). `where` names the entry in errors; the key itself is never
 * part of a message.
 */
export function decodeKey(text: string, where: string): Buffer {
  if (HEX_KEY_PATTERN.test(text)) return Buffer.from(text, 'hex')
  if (!BASE64_PATTERN.test(text)) {
    throw keyError(`${where} is not valid base64 (a 32-byte key in base64 is 44 characters)`)
  }
  const key = Buffer.from(text.replaceAll('-', '+').replaceAll('_', '/'), 'base64')
  if (key.length !== KEY_BYTES) {
    throw keyError(`${where} decodes to ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES}`)
  }
  return key
}

/** An `ERR_ENCRYPTION_KEY` error that always ends with how to get a valid key. */
export function keyError(problem: string): PrepaidBalancesError {
  return new PrepaidBalancesError(
    'ERR_ENCRYPTION_KEY',
    `Invalid encryptionKey: ${problem}. Pass a 32-byte key in base64 (${GENERATE_KEY_HINT}), or a ` +
      'keyring "newId:newKey,oldId:oldKey" whose first entry encrypts and whose entries all decrypt.',
  )
}
