import { afterEach, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { type MemoryRow, memoryStoreOver } from '../store/memory-store.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/index.js'
import { createBalanceReporter } from './create-balance-reporter.js'
import { waitUntil } from './multi-replica-suite.js'
import type { BalanceReporter } from './reporter-types.js'

let sandbox: VercelSandbox
let reporter: BalanceReporter
afterEach(async () => {
  await reporter?.close()
  await sandbox?.close()
})

async function setUp(leaseMs: number) {
  sandbox = await createVercelSandbox()
  const rows = new Map<string, MemoryRow>()
  const encryptionKey = generateEncryptionKey()
  const warnings: string[] = []
  reporter = createBalanceReporter({
    store: memoryStoreOver(rows, { encryptionKey }),
    getBalances: () => [{ currencyValueInCents: 1 }],
    apiUrl: sandbox.url,
    leaseMs,
    retry: { maxAttempts: 1 },
    timeoutMs: 5000,
    logger: { warn: (message) => warnings.push(message), error: () => {} },
  })
  sandbox.addInstallation('icfg_long', { accessToken: 'tok' })
  await reporter.saveInstallation('icfg_long', { accessToken: 'tok' })
  await reporter.flush()
  // Another replica's handle on the same rows.
  return { rows, other: memoryStoreOver(rows, { encryptionKey }), warnings }
}

describe('leases held by a running report', () => {
  it('are renewed while the report runs, so nobody else takes the installation', async () => {
    const { other } = await setUp(300)
    sandbox.injectFault({ installationId: 'icfg_long', delayMs: 900 })
    const result = reporter.reportNow('icfg_long')
    await waitUntil(() => sandbox.stats().inFlight === 1, 2000, 'the report to be sent')
    await new Promise((resolve) => setTimeout(resolve, 600)) // twice the lease
    expect((await other.leases!.claim('icfg_long', { token: 'other', leaseMs: 1000 })).status).toBe(
      'busy',
    )
    expect((await result).outcome).toBe('delivered')
  })

  it('abort the report when the lease was lost to another process', async () => {
    const { rows, warnings } = await setUp(300)
    sandbox.injectFault({ installationId: 'icfg_long', delayMs: 3000 })
    const result = reporter.reportNow('icfg_long')
    await waitUntil(() => sandbox.stats().inFlight === 1, 2000, 'the report to be sent')
    // As if this process had stalled past its lease and another one had claimed it.
    rows.get('icfg_long')!.lease!.leaseOwner = 'another-process'
    const ended = await result
    expect(ended).toMatchObject({ outcome: 'skipped', error: { code: 'aborted' } })
    expect(ended.durationMs).toBeLessThan(2000)
    expect(warnings).toContain('report aborted: lease taken over by another process')
  })
})
