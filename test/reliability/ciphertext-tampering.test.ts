// Item 6 of the reliability issue, ciphertext at rest: an access token's ciphertext in the SQLite
// file that was altered, relabelled, or copied into another installation's row never decrypts,
// and a reporter then sends nothing rather than the wrong token.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createBalanceReporter,
  createVercelSandbox,
  generateEncryptionKey,
  isPrepaidBalancesError,
  openRawDatabase,
  silentLogger,
  sqliteStore,
} from './support/packages.js'
import { deepText, leakedTokens } from './support/secret-search.js'

const dir = mkdtempSync(join(tmpdir(), 'reliability-ciphertext-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const TABLE = 'prepaid_balances_installations'
const newToken = () => `vtok_${randomBytes(24).toString('hex')}`

describe('ciphertext at rest', () => {
  const A = 'icfg_row_a'
  const B = 'icfg_row_b'
  const tokenA = newToken()
  const tokenB = newToken()

  async function setup(name: string) {
    const file = join(dir, `${name}.db`)
    const key = generateEncryptionKey()
    const store = sqliteStore({ filename: file, encryptionKey: key })
    await store.saveCredentials(A, { accessToken: tokenA }, Date.now())
    await store.saveCredentials(B, { accessToken: tokenB }, Date.now())
    await store.close()
    const raw = openRawDatabase(file)
    const envelope = (id: string) =>
      (
        raw
          .prepare(`SELECT token_envelope AS e FROM ${TABLE} WHERE installation_id = ?`)
          .get(id) as { e: string }
      ).e
    const setEnvelope = (id: string, value: string) =>
      raw.prepare(`UPDATE ${TABLE} SET token_envelope = ? WHERE installation_id = ?`).run(value, id)
    return { file, key, raw, envelope, setEnvelope }
  }

  /** Reads `id` through a fresh store and returns the error code it fails with. */
  async function decryptError(file: string, key: string, id: string): Promise<string> {
    const store = sqliteStore({ filename: file, encryptionKey: key })
    try {
      await store.getCredentials(id)
      return 'decrypted'
    } catch (error) {
      expect(isPrepaidBalancesError(error)).toBe(true)
      expect(leakedTokens(deepText(error), [tokenA, tokenB])).toEqual([])
      return (error as { code: string }).code
    } finally {
      await store.close()
    }
  }

  const flip = (text: string) =>
    `${text.slice(0, -2)}${text.at(-2) === 'A' ? 'B' : 'A'}${text.at(-1)}`
  it.each([
    [
      'a changed ciphertext byte',
      (parts: string[]) => Object.assign([...parts], { 3: flip(parts[3]!) }),
    ],
    [
      'a changed authentication tag',
      (parts: string[]) => Object.assign([...parts], { 4: flip(parts[4]!) }),
    ],
    ['a changed IV', (parts: string[]) => Object.assign([...parts], { 2: flip(parts[2]!) })],
    [
      'a truncated ciphertext',
      (parts: string[]) => Object.assign([...parts], { 3: parts[3]!.slice(0, -4) }),
    ],
  ])('%s fails to decrypt (ERR_DECRYPTION_FAILED)', async (name, tamper) => {
    const { file, key, raw, envelope, setEnvelope } = await setup(
      `tamper-${name.replace(/\W+/g, '-')}`,
    )
    setEnvelope(A, tamper(envelope(A).split('.')).join('.'))
    raw.close()
    expect(await decryptError(file, key, A)).toBe('ERR_DECRYPTION_FAILED')
    expect(await decryptError(file, key, B)).toBe('decrypted') // the other row is untouched
  })

  it("a ciphertext copied to another installation's row fails to decrypt, and nothing is sent", async () => {
    const { file, key, raw, envelope, setEnvelope } = await setup('copied')
    setEnvelope(B, envelope(A))
    raw.close()
    expect(await decryptError(file, key, B)).toBe('ERR_DECRYPTION_FAILED')

    // A reporter over that file refuses to report B rather than send A's token under B's id.
    const sandbox = await createVercelSandbox({ installations: { [A]: tokenA, [B]: tokenB } })
    const reporter = createBalanceReporter({
      store: sqliteStore({ filename: file, encryptionKey: key }),
      getBalances: () => [{ currencyValueInCents: 1 }],
      apiUrl: sandbox.url,
      autoStart: false,
      logger: silentLogger,
    })
    try {
      const result = await reporter.reportNow(B)
      expect(result).toMatchObject({ outcome: 'failed', attempts: 0 })
      expect(result.error?.code).toBe('ERR_DECRYPTION_FAILED')
      expect(sandbox.requests.filter((r) => r.installationId === B)).toEqual([])
      expect(await reporter.reportNow(A)).toMatchObject({ outcome: 'delivered' })
    } finally {
      await reporter.close()
      await sandbox.close()
    }
  })

  it('a ciphertext relabelled with another key id does not decrypt', async () => {
    const { file, key, raw, envelope, setEnvelope } = await setup('relabelled')
    const parts = envelope(A).split('.')
    setEnvelope(A, ['v1', 'kSomeOtherKey', ...parts.slice(2)].join('.'))
    raw.close()
    expect(await decryptError(file, key, A)).toBe('ERR_UNKNOWN_KEY_ID')
    // Even under an id the keyring knows, the authenticated data no longer matches.
    const keyring = `other:${generateEncryptionKey()},kSomeOtherKey:${generateEncryptionKey()},${key}`
    expect(await decryptError(file, keyring, A)).toBe('ERR_DECRYPTION_FAILED')
  })
})
