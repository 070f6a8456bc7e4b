import { createSecretKey, type KeyObject } from 'node:crypto'
import { decodeKey, fingerprintKeyId, KEY_ID_PATTERN, keyError } from './key-material.js'

/**
 * What `encryptionKey` accepts:
 * - one 32-byte key in base64 (standard or url-safe) or hex: it encrypts and decrypts, under an id
 *   derived from its fingerprint;
 * - a keyring: `id:key` entries separated by commas or whitespace (a string), or an array of such
 *   strings. The first entry encrypts; every entry decrypts. An entry without `id:` gets its
 *   fingerprint id.
 */
export type EncryptionKeyInput = string | readonly string[]

/** A parsed, validated set of keys. Holds no key material in enumerable properties. */
export interface Keyring {
  /** The id written into every new envelope (the first entry's). */
  readonly currentKeyId: string
  /** The ids of all entries, in the order given; the first is {@link currentKeyId}. */
  readonly keyIds: readonly string[]
  /** True if an envelope written under `keyId` can be decrypted (by explicit or fingerprint id). */
  hasKey(keyId: string): boolean
  /** True if `keyId` names the current key (by its explicit or its fingerprint id). */
  isCurrentKey(keyId: string): boolean
}

interface KeyringSecrets {
  current: KeyObject
  byId: ReadonlyMap<string, KeyObject>
}

// Key material lives here, not on the object, so logging or serialising a Keyring cannot leak it.
const secrets = new WeakMap<Keyring, KeyringSecrets>()

/**
 * Parses and validates `encryptionKey` once, so stores and tooling share one parse.
 * Throws `ERR_ENCRYPTION_KEY` with a fix; messages never contain key material.
 *
 * @example
 * const keyring = createKeyring(process.env.BALANCES_ENCRYPTION_KEY ?? '')
 * keyring.currentKeyId // 'k3f9a0c12' for a single key, 'v2' for 'v2:…,v1:…'
 */
export function createKeyring(input: EncryptionKeyInput | Keyring): Keyring {
  if (isKeyring(input)) return input
  const entries = splitEntries(input)
  const byId = new Map<string, KeyObject>()
  const explicitIds: string[] = []
  const aliases: Array<[string, KeyObject]> = []
  entries.forEach((entry, index) => {
    const where = entries.length === 1 ? 'the key' : `entry ${index + 1} of the keyring`
    const colon = entry.indexOf(':')
    const id = colon === -1 ? undefined : entry.slice(0, colon)
    if (id !== undefined && !KEY_ID_PATTERN.test(id)) {
      // The id is not echoed: a malformed "id" may well be a key pasted the wrong way round.
      throw keyError(`${where} has an invalid id (ids match [A-Za-z0-9_-]{1,32})`)
    }
    const key = decodeKey(
      colon === -1 ? entry : entry.slice(colon + 1),
      `${where}${id ? ` (id "${id}")` : ''}`,
    )
    const fingerprint = fingerprintKeyId(key)
    const keyId = id ?? fingerprint
    if (byId.has(keyId)) {
      throw keyError(`key id "${keyId}" appears twice in the keyring; ids must be unique`)
    }
    const keyObject = createSecretKey(key)
    byId.set(keyId, keyObject)
    explicitIds.push(keyId)
    aliases.push([fingerprint, keyObject])
  })
  // Explicit ids win over fingerprint aliases; among aliases, the earlier entry wins.
  for (const [alias, keyObject] of aliases) if (!byId.has(alias)) byId.set(alias, keyObject)

  const currentKeyId = explicitIds[0]!
  const current = byId.get(currentKeyId)!
  const currentIds = new Set([...byId].filter(([, key]) => key === current).map(([id]) => id))
  const keyring: Keyring = Object.freeze({
    currentKeyId,
    keyIds: Object.freeze([...explicitIds]),
    hasKey: (keyId: string) => byId.has(keyId),
    isCurrentKey: (keyId: string) => currentIds.has(keyId),
  })
  secrets.set(keyring, { current, byId })
  return keyring
}

/** True for keyrings made by {@link createKeyring} in this copy of the library. */
export function isKeyring(value: unknown): value is Keyring {
  return typeof value === 'object' && value !== null && secrets.has(value as Keyring)
}

/** The key for `keyId`, for the cipher only (not re-exported). */
export function keyForId(keyring: Keyring, keyId: string): KeyObject | undefined {
  return secrets.get(keyring)?.byId.get(keyId)
}

export function currentKey(keyring: Keyring): KeyObject {
  return secrets.get(keyring)!.current
}

function splitEntries(input: unknown): string[] {
  const parts = Array.isArray(input) ? input : [input]
  const entries: string[] = []
  for (const part of parts) {
    if (typeof part !== 'string') {
      throw keyError(`expected a string or an array of strings, got ${describeType(part)}`)
    }
    for (const entry of part.split(/[\s,]+/)) if (entry !== '') entries.push(entry)
  }
  if (entries.length === 0) throw keyError('it is missing or empty')
  return entries
}

function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
