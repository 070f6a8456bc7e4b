// 3. `notify()` cost: p50/p99 per call. Calls are timed in batches of BATCH with
// process.hrtime.bigint() (the cost of reading the clock is measured and subtracted); the event
// loop runs between groups of batches so coalescing timers and durable writes keep up, as they
// would in an app. Installations are notified round-robin, each first notify of a burst taking
// the slow path (slot creation, durable pending mark).
import { caseSizes, progress, reportFigure } from '../lib/case-runtime.mjs'
import { installationIds } from '../lib/fixtures.mjs'
import { settledReporter } from '../lib/settled-reporter.mjs'
import { startDouble } from '../lib/start-double.mjs'
import { median, quantile } from '../lib/stats.mjs'
import { closeStore } from '../lib/stores.mjs'

const BATCH = 10
const BATCHES_PER_TURN = 100
const { notifyInstallations, notifyBatches, notifyRounds } = await caseSizes()
const ids = installationIds(notifyInstallations)
const double = await startDouble()
const { store, reporter } = await settledReporter({
  ids,
  apiUrl: double.url,
  cents: 99,
  dirName: 'notify',
})

const turn = () => new Promise((resolve) => setImmediate(resolve))

function clockCost() {
  const samples = []
  for (let i = 0; i < 10_000; i++) {
    const start = process.hrtime.bigint()
    samples.push(Number(process.hrtime.bigint() - start))
  }
  return median(samples)
}

async function round() {
  const clock = clockCost()
  const perCall = new Float64Array(notifyBatches)
  let next = 0
  for (let b = 0; b < notifyBatches; b++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < BATCH; i++) reporter.notify(ids[next++ % ids.length])
    perCall[b] = (Number(process.hrtime.bigint() - start) - clock) / BATCH
    if (b % BATCHES_PER_TURN === BATCHES_PER_TURN - 1) await turn()
  }
  await reporter.flush() // the next round starts with nothing pending
  const values = Array.from(perCall)
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99) }
}

try {
  progress(`notify(): ${notifyBatches} batches of ${BATCH} over ${ids.length} installations`)
  await round() // warm-up
  const p50 = []
  const p99 = []
  for (let r = 0; r < notifyRounds; r++) {
    const result = await round()
    p50.push(result.p50)
    p99.push(result.p99)
    progress(`round ${r + 1}: p50 ${result.p50.toFixed(0)} ns, p99 ${result.p99.toFixed(0)} ns`)
  }
  const bench = `notify() cost (${(notifyBatches * BATCH).toLocaleString('en-US')} calls per round over ${ids.length.toLocaleString('en-US')} installations, SQLite store)`
  const detail = `per call, from batches of ${BATCH} timed with hrtime (clock cost subtracted)`
  reportFigure({
    id: 'notify.p50',
    bench,
    label: 'notify() p50',
    unit: 'µs',
    samples: p50.map((ns) => ns / 1000),
    goal: { op: '<=', value: 1 },
    detail,
  })
  reportFigure({
    id: 'notify.p99',
    bench,
    label: 'notify() p99',
    unit: 'µs',
    samples: p99.map((ns) => ns / 1000),
    detail,
  })
} finally {
  await reporter.close()
  await closeStore(store)
  await double.stop()
}
