// Item 6 of the reliability issue, key rotation: key 1 → keyring "k2:…,k1:…" → reencryptAll() →
// keyring with key 2 only, with balance changes flowing and being delivered the whole time.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import {
  type BalanceReporter,
  createBalanceReporter,
  createVercelSandbox,
  generateEncryptionKey,
  openRawDatabase,
  type ReportResult,
  sqliteStore,
} from './support/packages.js'
import { capturingLogger, Ledger, type LogLine } from './support/reporter-kit.js'
import { publishResults } from './support/results.js'
import { waitFor } from './support/wait.js'

const dir = mkdtempSync(join(tmpdir(), 'reliability-rotation-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it('rotates the encryption key while reports keep flowing', { timeout: 60_000 }, async () => {
  const file = join(dir, 'rotation.db')
  const key1 = generateEncryptionKey()
  const key2 = generateEncryptionKey()
  const sandbox = await createVercelSandbox()
  const ledger = new Ledger()
  const results: ReportResult[] = []
  const logs: LogLine[] = []
  const start = (encryptionKey: string) =>
    createBalanceReporter({
      store: sqliteStore({ filename: file, encryptionKey }),
      getBalances: ledger.balances,
      apiUrl: sandbox.url,
      coalesceMs: 5,
      reportIntervalMs: 2_000, // sweeps (and picks up what a predecessor left pending) every 100 ms
      retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
      logger: capturingLogger(logs),
      onReport: (result) => results.push(result),
      leaseMs: 500, // a predecessor's claim on an installation lapses quickly
    })
  const ids = Array.from({ length: 200 }, (_, i) => `icfg_rotate_${i}`)
  let current: BalanceReporter | null = start(key1)
  let changes = 0
  let stopped = false
  // A steady stream of balance changes, as the partner's app would make, to whichever reporter runs.
  const traffic = (async () => {
    while (!stopped) {
      if (current) {
        for (let i = 0; i < 10; i++) {
          const id = ids[Math.floor(Math.random() * ids.length)]!
          ledger.add(id, 1)
          current.notify(id)
          changes++
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  /** A rolling restart onto a new keyring: stop the old process, start the new one. */
  const restartWith = async (encryptionKey: string) => {
    const old = current!
    current = null
    await old.close()
    current = start(encryptionKey)
  }
  const deliveredSince = (mark: number) =>
    results.slice(mark).filter((r) => r.outcome === 'delivered').length
  const envelopeKeyIds = () => {
    const raw = openRawDatabase(file)
    const rows = raw
      .prepare('SELECT token_envelope AS e FROM prepaid_balances_installations')
      .all() as { e: string }[]
    raw.close()
    return new Set(rows.map((r) => r.e.split('.')[1]))
  }
  try {
    for (const id of ids) {
      sandbox.addInstallation(id, { accessToken: `tok_${id}` })
      await current.saveInstallation(id, { accessToken: `tok_${id}` })
    }
    await waitFor('reports under key 1', () => deliveredSince(0) > 200, 10_000)
    const keyIdsBefore = envelopeKeyIds()
    expect(keyIdsBefore.size).toBe(1)
    expect(keyIdsBefore.has('k2')).toBe(false)

    // Step 1: key 2 encrypts from now on; key 1 still decrypts what it wrote.
    await restartWith(`k2:${key2},k1:${key1}`)
    let mark = results.length
    await waitFor('reports under the two-key ring', () => deliveredSince(mark) > 100, 10_000)
    // A token replaced now is written under key 2 straight away.
    sandbox.addInstallation(ids[0]!, { accessToken: 'tok_replaced_during_rotation' })
    await current!.saveInstallation(ids[0]!, { accessToken: 'tok_replaced_during_rotation' })

    // Step 2: re-encrypt everything under key 2 while reports go on.
    mark = results.length
    const { reencrypted } = await current!.store.reencryptAll()
    expect(reencrypted).toBe(ids.length - 1)
    expect([...envelopeKeyIds()]).toEqual(['k2'])
    await waitFor('reports after re-encryption', () => deliveredSince(mark) > 100, 10_000)

    // Step 3: retire key 1.
    await restartWith(`k2:${key2}`)
    mark = results.length
    await waitFor('reports under key 2 alone', () => deliveredSince(mark) > 100, 10_000)
    stopped = true
    await traffic
    await current!.flush()
    await waitFor(
      'every change at Vercel',
      () =>
        ids.every(
          (id) => sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents === ledger.get(id),
        ),
      15_000,
    )

    // Nothing failed for want of a key, at any point.
    const keyErrors = results.filter((r) => /DECRYPT|KEY_ID|store_read/i.test(r.error?.code ?? ''))
    expect(keyErrors).toEqual([])
    expect(
      logs.filter((l) => /decrypt|key id/i.test(`${l.message} ${JSON.stringify(l.fields)}`)),
    ).toEqual([])
    // Only the restarts themselves cut reports short: close() aborts what is in flight (the change
    // stays pending in the store and the next process sends it), and a successor may find an
    // installation still claimed by its predecessor, or already reported by it. The one other
    // refusal allowed is a report still carrying the token Vercel just replaced; the new token
    // must stay active despite it.
    const cutShort = results.filter((r) => r.outcome !== 'delivered')
    const restartCodes = ['aborted', 'lease_held', 'reported_elsewhere']
    const oldToken = (r: ReportResult) => r.installationId === ids[0] && r.outcome === 'rejected'
    expect(
      cutShort.filter(
        (r) =>
          !oldToken(r) && (r.outcome !== 'skipped' || !restartCodes.includes(r.error?.code ?? '')),
      ),
    ).toEqual([])
    expect(await current!.getStatus(ids[0]!)).toMatchObject({ tokenState: 'active' })
    expect(sandbox.stats().timestampRegressions).toBe(0)

    // Key 1 alone can no longer read anything: it is retired for real.
    const retired = sqliteStore({ filename: file, encryptionKey: key1 })
    await expect(retired.getCredentials(ids[1]!)).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_KEY_ID',
    })
    await retired.close()
    publishResults('key-rotation', {
      installations: ids.length,
      changes,
      reencrypted,
      reports: results.length,
      delivered: deliveredSince(0),
      failedForKeys: keyErrors.length,
      cutShortByRestarts: cutShort.length,
    })
  } finally {
    stopped = true
    await traffic
    await current?.close()
    await sandbox.close()
  }
})
