// What a stream of balance changes costs the reporter in the background, apart from any web
// framework: `notify()` at a fixed pace over N busy installations (as the hook benchmark's load
// does), CPU per second against the same paced loop without `notify()`, alternating legs, plus
// how many pending marks, store transactions and reports that traffic caused.
//   node bench/reporting-load.mjs [sqlite|memory] [notifies per 1 ms turn=30] [installations=100]
import { installationIds } from './lib/fixtures.mjs'
import { settledReporter } from './lib/settled-reporter.mjs'
import { startDouble } from './lib/start-double.mjs'
import { closeStore } from './lib/stores.mjs'

const [kind = 'sqlite', perTurn = '30', count = '100'] = process.argv.slice(2)
const LEG_MS = 2000
const ids = installationIds(Number(count))
const double = await startDouble()
const { store, reporter } = await settledReporter({
  kind,
  ids,
  apiUrl: double.url,
  cents: 4_200,
  dirName: 'reporting-load',
})
const seen = { marks: 0, transactions: 0, reports: 0 }
const write = store.write.bind(store)
store.write = (writes) => {
  seen.transactions++
  for (const each of writes) if (each.type === 'markPending') seen.marks++
  return write(writes)
}
reporter.onReport(() => seen.reports++)

/** One leg: turns of `perTurn` calls every ~1 ms; CPU ms per second of wall time. */
async function leg(notify) {
  for (const key of Object.keys(seen)) seen[key] = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  let calls = 0
  while (performance.now() - started < LEG_MS) {
    for (let i = 0; i < Number(perTurn); i++) {
      const id = ids[calls++ % ids.length]
      if (notify) reporter.notify(id)
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  const used = process.cpuUsage(cpu)
  const seconds = (performance.now() - started) / 1000
  const counts = { ...seen }
  await reporter.flush() // outside the leg: what it caused, not what follows it
  return {
    cpuMsPerS: (used.user + used.system) / 1000 / seconds,
    callsPerS: calls / seconds,
    counts,
    seconds,
  }
}

try {
  for (let round = 0; round < 5; round++) {
    const without = await leg(false)
    const withNotify = await leg(true)
    const addedMs = withNotify.cpuMsPerS - without.cpuMsPerS
    const per = (n) => (n / withNotify.seconds).toFixed(0)
    console.log(
      `round ${round + 1}: ${withNotify.callsPerS.toFixed(0)} notify()/s added ${addedMs.toFixed(1)} ms CPU/s ` +
        `(${((addedMs * 1000) / withNotify.callsPerS).toFixed(2)} µs per call); per second: ` +
        `${per(withNotify.counts.marks)} marks, ${per(withNotify.counts.transactions)} store transactions, ` +
        `${per(withNotify.counts.reports)} reports`,
    )
  }
} finally {
  await reporter.close()
  await closeStore(store)
  await double.stop()
}
