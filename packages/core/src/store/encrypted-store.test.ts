import { describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { createEncryptedStore } from './encrypted-store.js'
import { type MemoryRow, memoryBackend } from './memory-store.js'
import type { StoreBackend } from './store-backend.js'

const T0 = 1_700_000_000_000

function backendWith(overrides: Partial<StoreBackend> = {}) {
  const rows = new Map<string, MemoryRow>()
  const calls: string[] = []
  const base = memoryBackend(rows)
  const backend: StoreBackend = {
    ...base,
    init() {
      calls.push('init')
    },
    close() {
      calls.push('close')
    },
    ...overrides,
  }
  return { rows, calls, backend, base }
}

describe('createEncryptedStore', () => {
  it('initialises the backend once, on first use, even without init()', async () => {
    const { backend, calls } = backendWith()
    const store = createEncryptedStore(backend, generateEncryptionKey())
    expect(calls).toEqual([])
    await Promise.all([store.listPending(10), store.getInstallation('icfg_a'), store.init()])
    await store.init()
    expect(calls).toEqual(['init'])
  })

  it('retries a failed init on the next call', async () => {
    let attempts = 0
    const { backend } = backendWith({
      init() {
        attempts += 1
        if (attempts === 1) throw new Error('database is locked')
      },
    })
    const store = createEncryptedStore(backend, generateEncryptionKey())
    await expect(store.init()).rejects.toMatchObject({
      code: 'ERR_STORE',
      message: 'The memory store failed to init: database is locked',
    })
    await expect(store.listPending(10)).resolves.toEqual([])
    expect(attempts).toBe(2)
  })

  it('refuses every call after close() with ERR_STORE, and closes the backend once', async () => {
    const { backend, calls } = backendWith()
    const store = createEncryptedStore(backend, generateEncryptionKey())
    await store.init()
    await Promise.all([store.close(), store.close()])
    expect(calls).toEqual(['init', 'close'])
    await expect(store.listDue(T0, 10)).rejects.toMatchObject({
      code: 'ERR_STORE',
      message: /closed/,
    })
    await expect(store.write([])).rejects.toMatchObject({ code: 'ERR_STORE' })
  })

  it('wraps backend errors as ERR_STORE, keeping the cause', async () => {
    const failure = new Error('disk I/O error')
    const { backend } = backendWith({
      write() {
        throw failure
      },
    })
    const store = createEncryptedStore(backend, generateEncryptionKey())
    await expect(
      store.write([{ type: 'markPending', installationId: 'icfg_a', at: T0 }]),
    ).rejects.toMatchObject({
      code: 'ERR_STORE',
      message: 'The memory store failed to apply writes: disk I/O error',
      cause: failure,
    })
  })

  it('checks arguments without echoing the token', async () => {
    const { backend, rows } = backendWith()
    const store = createEncryptedStore(backend, generateEncryptionKey())
    await expect(store.saveCredentials('', { accessToken: 'tok' }, T0)).rejects.toMatchObject({
      code: 'ERR_INVALID_INSTALLATION_ID',
    })
    await expect(store.saveCredentials('icfg_a', { accessToken: '' }, T0)).rejects.toMatchObject({
      code: 'ERR_INVALID_CREDENTIALS',
    })
    await expect(
      store.saveCredentials('icfg_a', { accessToken: 42 as unknown as string }, T0),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_CREDENTIALS' })
    await expect(store.listPending(-1)).rejects.toMatchObject({ code: 'ERR_STORE' })
    await expect(store.listDue(T0, 1.5)).rejects.toMatchObject({ code: 'ERR_STORE' })
    expect(rows.size).toBe(0)
  })

  it('rejects a bad key at construction with ERR_ENCRYPTION_KEY', () => {
    const { backend } = backendWith()
    expect(() => createEncryptedStore(backend, 'nope')).toThrow(
      expect.objectContaining({ code: 'ERR_ENCRYPTION_KEY' }),
    )
  })

  it('re-encryption does not overwrite a token saved while it runs', async () => {
    const oldKey = generateEncryptionKey()
    const rows = new Map<string, MemoryRow>()
    const before = createEncryptedStore(memoryBackend(rows), `old:${oldKey}`)
    await before.saveCredentials('icfg_a', { accessToken: 'old-token-a' }, T0)
    await before.saveCredentials('icfg_b', { accessToken: 'old-token-b' }, T0)

    const base = memoryBackend(rows)
    let store: ReturnType<typeof createEncryptedStore> | undefined
    const racing: StoreBackend = {
      ...base,
      async listEnvelopes(after, limit) {
        const page = base.listEnvelopes(after, limit)
        // An Upsert Installation lands between reading and replacing the envelopes.
        await store!.saveCredentials('icfg_a', { accessToken: 'fresh-token-a' }, T0 + 1)
        return page
      },
    }
    store = createEncryptedStore(racing, `new:${generateEncryptionKey()},old:${oldKey}`)
    expect(await store.reencryptAll()).toEqual({ reencrypted: 1 })
    expect((await store.getCredentials('icfg_a'))?.accessToken).toBe('fresh-token-a')
    expect((await store.getCredentials('icfg_b'))?.accessToken).toBe('old-token-b')
  })

  it('re-encrypts in pages until every token is under the current key', async () => {
    const oldKey = generateEncryptionKey()
    const rows = new Map<string, MemoryRow>()
    const before = createEncryptedStore(memoryBackend(rows), oldKey)
    for (let i = 0; i < 1203; i++) {
      await before.saveCredentials(`icfg_${i}`, { accessToken: `token-${i}` }, T0)
    }
    const after = createEncryptedStore(memoryBackend(rows), [
      `new:${generateEncryptionKey()}`,
      oldKey,
    ])
    expect(await after.reencryptAll()).toEqual({ reencrypted: 1203 })
    expect([...rows.values()].every((row) => row.envelope.startsWith('v1.new.'))).toBe(true)
    expect((await after.getCredentials('icfg_1202'))?.accessToken).toBe('token-1202')
  })
})
