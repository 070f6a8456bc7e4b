import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { tempDir } from './case-runtime.mjs'
import { balancesFor } from './fixtures.mjs'
import { createStore, populate } from './stores.mjs'

/**
 * The setup of the benchmarks that measure `notify()` and the hook: a fresh store of `kind`
 * holding every id's token, and a reporter on it (no scheduled sweeps, silent) whose balances are
 * `cents`, with the pending marks that storing the tokens left already reported, so that
 * nothing from the setup runs during a measurement.
 */
export async function settledReporter({ kind = 'sqlite', ids, apiUrl, cents, dirName }) {
  const store = await createStore(kind, { dir: tempDir(dirName) })
  await populate(store, ids)
  const reporter = createBalanceReporter({
    store,
    getBalances: () => balancesFor(cents),
    apiUrl,
    autoStart: false,
    logger: silentLogger,
  })
  await reporter.reportAll()
  return { store, reporter }
}
