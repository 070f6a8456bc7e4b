// One full sweep in a fresh process, so the RSS figures are this sweep's alone:
// RSS after start-up (modules loaded, GC run) → open the store, create the reporter,
// `reportAll()` over every stored installation, RSS sampled every 10 ms.
// Env: BENCH_STORE_KIND, BENCH_STORE_DIR, BENCH_DOUBLE_URL, BENCH_CONCURRENCY.
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { collectGarbage } from './case-runtime.mjs'
import { balancesFor } from './fixtures.mjs'
import { closeStore, openStore } from './stores.mjs'

const rss = () => process.memoryUsage.rss()
collectGarbage()
const baseline = rss()
let peak = baseline
const sampler = setInterval(() => {
  peak = Math.max(peak, rss())
}, 10)

const store = await openStore(process.env.BENCH_STORE_KIND, { dir: process.env.BENCH_STORE_DIR })
const reporter = createBalanceReporter({
  store,
  getBalances: () => balancesFor(777),
  apiUrl: process.env.BENCH_DOUBLE_URL,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
  autoStart: false,
  logger: silentLogger,
})
await store.init()
const started = performance.now()
const summary = await reporter.reportAll()
const sweepMs = performance.now() - started
peak = Math.max(peak, rss())
clearInterval(sampler)
await reporter.close()
await closeStore(store)
process.send({ type: 'swept', summary, sweepMs, baseline, peak })
process.disconnect()
