import type { EncryptionKeyInput, Keyring } from '../crypto/keyring.js'
import { createTokenCipher } from '../crypto/token-cipher.js'
import { isPrepaidBalancesError, PrepaidBalancesError } from '../errors.js'
import { encryptedLeases } from './encrypted-leases.js'
import { DEFAULT_TOKEN_TYPE } from './record-transitions.js'
import type { EnvelopeReplacement, SealedCredentials, StoreBackend } from './store-backend.js'
import type { BalanceStore, StoredCredentials } from './store-types.js'

const REENCRYPT_BATCH = 500

/**
 * Wraps a backend into a `BalanceStore`: tokens are encrypted before the backend sees them and
 * decrypted only in `getCredentials`. Also owns what every store does the same way: argument
 * checks, lazy `init()` (any method initialises on first use), the closed state, wrapping driver
 * errors as `ERR_STORE`, and `reencryptAll()`.
 */
export function createEncryptedStore(
  backend: StoreBackend,
  encryptionKey: EncryptionKeyInput | Keyring,
): BalanceStore {
  const cipher = createTokenCipher(encryptionKey)
  let initializing: Promise<void> | undefined
  let closed = false

  function ready(): Promise<void> {
    if (closed) {
      return Promise.reject(
        new PrepaidBalancesError('ERR_STORE', `The ${backend.kind} store is closed`),
      )
    }
    if (!initializing) {
      initializing = run('init', () => backend.init())
      // Let a failed init (e.g. a locked file) be retried by the next call.
      initializing.catch(() => {
        initializing = undefined
      })
    }
    return initializing
  }

  async function run<T>(operation: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (isPrepaidBalancesError(error)) throw error
      const reason = error instanceof Error ? error.message : String(error)
      throw new PrepaidBalancesError(
        'ERR_STORE',
        `The ${backend.kind} store failed to ${operation}: ${reason}`,
        { cause: error },
      )
    }
  }

  async function call<T>(operation: string, fn: () => T | Promise<T>): Promise<T> {
    await ready()
    return run(operation, fn)
  }

  const open = (sealed: SealedCredentials, installationId: string): StoredCredentials => ({
    accessToken: cipher.decrypt(sealed.envelope, installationId),
    tokenType: sealed.tokenType,
    tokenState: sealed.tokenState,
    tokenGeneration: sealed.tokenGeneration,
  })

  return {
    kind: backend.kind,
    init: ready,
    ...(backend.leases ? { leases: encryptedLeases(backend.leases, call, open) } : {}),
    async saveCredentials(installationId, credentials, at) {
      assertInstallationId(installationId)
      const accessToken = credentials?.accessToken
      if (typeof accessToken !== 'string' || accessToken === '') {
        throw new PrepaidBalancesError(
          'ERR_INVALID_CREDENTIALS',
          `The access token for installation "${installationId}" must be a non-empty string`,
        )
      }
      const tokenType = credentials.tokenType || DEFAULT_TOKEN_TYPE
      const envelope = cipher.encrypt(accessToken, installationId)
      await call('save credentials', () =>
        backend.saveCredentials(installationId, envelope, tokenType, at),
      )
    },
    async getCredentials(installationId): Promise<StoredCredentials | null> {
      const sealed = await call('read credentials', () =>
        backend.getSealedCredentials(installationId),
      )
      return sealed ? open(sealed, installationId) : null
    },
    getInstallation: (installationId) =>
      call('read an installation', () => backend.getInstallation(installationId)),
    deleteInstallation: (installationId) =>
      call('delete an installation', () => backend.deleteInstallation(installationId)),
    listInstallationIds: (options) =>
      call('list installations', () =>
        backend.listInstallationIds({ after: options.after, limit: checkLimit(options.limit) }),
      ),
    listPending: (limit) => call('list pending', () => backend.listPending(checkLimit(limit))),
    listDue: (before, limit) => call('list due', () => backend.listDue(before, checkLimit(limit))),
    write: (writes) =>
      writes.length === 0 ? ready() : call('apply writes', () => backend.write(writes)),
    async reencryptAll() {
      await ready()
      let reencrypted = 0
      let after: string | undefined
      for (;;) {
        const page = await run('list tokens', () => backend.listEnvelopes(after, REENCRYPT_BATCH))
        const replacements: EnvelopeReplacement[] = []
        for (const { installationId, envelope } of page) {
          if (!cipher.needsReencryption(envelope)) continue
          const accessToken = cipher.decrypt(envelope, installationId)
          replacements.push({
            installationId,
            previous: envelope,
            envelope: cipher.encrypt(accessToken, installationId),
          })
        }
        if (replacements.length > 0) {
          reencrypted += await run('re-encrypt tokens', () =>
            backend.replaceEnvelopes(replacements),
          )
        }
        if (page.length < REENCRYPT_BATCH) return { reencrypted }
        after = page[page.length - 1]!.installationId
      }
    },
    async close() {
      if (closed) return
      closed = true
      // Wait for a running init so the backend is not closed half-opened.
      await initializing?.catch(() => {})
      await run('close', () => backend.close())
    },
  }
}

function assertInstallationId(installationId: unknown): asserts installationId is string {
  if (typeof installationId !== 'string' || installationId === '') {
    throw new PrepaidBalancesError(
      'ERR_INVALID_INSTALLATION_ID',
      'The installation id must be a non-empty string',
    )
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new PrepaidBalancesError(
      'ERR_STORE',
      `A list limit must be a non-negative integer, got ${String(limit)}`,
    )
  }
  return limit
}
