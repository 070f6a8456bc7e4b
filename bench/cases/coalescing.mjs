// 4. Coalescing: N notify() calls spread evenly over one second across M installations, each
// preceded by a balance change. Counts the requests the double received, and the time from the
// last notify() until the double held every installation's latest balance.
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { assert, caseSizes, progress, reportFigure, tempDir } from '../lib/case-runtime.mjs'
import { balancesFor, installationIds } from '../lib/fixtures.mjs'
import { startDouble } from '../lib/start-double.mjs'
import { closeStore, createStore, populate } from '../lib/stores.mjs'

const TICK_MS = 10
const WINDOW_MS = 1_000
const { coalescingCalls, coalescingInstallations, coalescingRounds } = await caseSizes()
const ids = installationIds(coalescingInstallations)
const ledger = new Map(ids.map((id) => [id, 1_000_000]))
const double = await startDouble()
const store = await createStore('sqlite', { dir: tempDir('coalescing') })
await populate(store, ids)
const reporter = createBalanceReporter({
  store,
  getBalances: (id) => balancesFor(ledger.get(id)),
  apiUrl: double.url,
  autoStart: false,
  logger: silentLogger,
})
await reporter.reportAll()
const epochMs = () => performance.timeOrigin + performance.now()
const sleepUntil = (at) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - epochMs())))

async function burst() {
  await double.reset({ record: true })
  const ticks = WINDOW_MS / TICK_MS
  const perTick = Math.ceil(coalescingCalls / ticks)
  const started = epochMs()
  let sent = 0
  for (let tick = 0; tick < ticks && sent < coalescingCalls; tick++) {
    await sleepUntil(started + tick * TICK_MS)
    for (let i = 0; i < perTick && sent < coalescingCalls; i++, sent++) {
      const id = ids[sent % ids.length]
      ledger.set(id, ledger.get(id) - 1) // a usage event changed the balance…
      reporter.notify(id) // …and the app says so
    }
  }
  const lastNotify = epochMs()
  const expected = Object.fromEntries(ledger)
  let timer
  const arrivedAt = await Promise.race([
    double.waitForBalances(expected),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('latest balances never arrived')), 60_000)
    }),
  ]).finally(() => clearTimeout(timer))
  await reporter.flush() // anything still queued is counted too
  const stats = await double.stats()
  assert(
    stats.byStatus['201'] === stats.requests,
    `double refused ${stats.requests - stats.byStatus['201']} requests`,
  )
  return {
    requests: stats.requests,
    burstMs: lastNotify - started,
    latencyMs: arrivedAt - lastNotify,
  }
}

try {
  progress(`coalescing: ${coalescingCalls} notify() calls over ${ids.length} installations in ~1 s`)
  const requests = []
  const latency = []
  const burstMs = []
  await burst() // warm-up
  for (let r = 0; r < coalescingRounds; r++) {
    const result = await burst()
    requests.push(result.requests)
    latency.push(result.latencyMs)
    burstMs.push(result.burstMs)
    progress(
      `round ${r + 1}: ${result.requests} requests, latest balances all arrived ${result.latencyMs.toFixed(0)} ms after the last notify (burst took ${result.burstMs.toFixed(0)} ms)`,
    )
  }
  const bench = `Coalescing (${coalescingCalls.toLocaleString('en-US')} notify() calls over ${ids.length.toLocaleString('en-US')} installations in 1 s, coalesceMs 1000, SQLite store)`
  reportFigure({
    id: 'coalescing.requests',
    bench,
    label: 'requests sent to Vercel',
    unit: 'requests',
    samples: requests,
    goal: { op: '<=', value: 2 * ids.length },
    detail: `one request per notify() would be ${coalescingCalls.toLocaleString('en-US')}`,
  })
  reportFigure({
    id: 'coalescing.latency',
    bench,
    label: 'last notify() → every latest balance at Vercel',
    unit: 'ms',
    samples: latency,
    detail: `burst lasted ${Math.round(Math.max(...burstMs))} ms at most`,
  })
} finally {
  await reporter.close()
  await closeStore(store)
  await double.stop()
}
