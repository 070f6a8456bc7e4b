import { afterEach, describe, expect, it } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { silentLogger } from '../logger.js'
import { memoryStore } from '../store/memory-store.js'
import type { BalanceStore, StoreWrite } from '../store/store-types.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/index.js'
import { createBalanceReporter } from './create-balance-reporter.js'
import type { BalanceReporter } from './reporter-types.js'

let sandbox: VercelSandbox
let reporter: BalanceReporter
afterEach(async () => {
  await reporter?.close()
  await sandbox?.close()
})

/** A store of the kind users may write themselves: the required methods only, no leases. */
function storeWithoutLeases(writes: StoreWrite[]): BalanceStore {
  const { leases: _leases, ...store } = memoryStore({ encryptionKey: generateEncryptionKey() })
  return {
    ...store,
    write: (batch) => {
      writes.push(...batch)
      return store.write(batch)
    },
  }
}

describe('a reporter over a store without leases (single process)', () => {
  it('reports changes and clears pending, with one pending mark per burst of changes', async () => {
    sandbox = await createVercelSandbox()
    const writes: StoreWrite[] = []
    let cents = 0
    reporter = createBalanceReporter({
      store: storeWithoutLeases(writes),
      getBalances: () => [{ currencyValueInCents: cents }],
      apiUrl: sandbox.url,
      coalesceMs: 50,
      logger: silentLogger,
    })
    sandbox.addInstallation('icfg_plain', { accessToken: 'tok' })
    await reporter.saveInstallation('icfg_plain', { accessToken: 'tok' })
    await reporter.flush()
    for (let i = 0; i < 20; i++) {
      cents += 1
      reporter.notify('icfg_plain')
      await new Promise((resolve) => setImmediate(resolve))
    }
    await reporter.flush()
    expect(sandbox.latestBalances('icfg_plain')?.balances[0]?.currencyValueInCents).toBe(20)
    expect(writes.filter((w) => w.type === 'markPending')).toHaveLength(1)
    expect(writes.some((w) => w.type === 'reportFinished' && w.lease)).toBe(false)
    expect((await reporter.getStatus('icfg_plain'))?.pending).toBe(false)
  })
})
