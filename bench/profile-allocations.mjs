// Bytes allocated per report in one `reportAll()` sweep, by function, from V8's sampling heap
// profiler (objects later collected included): where the sender's garbage comes from.
//   node bench/profile-allocations.mjs [memory|sqlite|postgres] [installations=20000] [top=40]
// A first sweep warms up (and is not sampled); the second is.
import { Session } from 'node:inspector/promises'
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { tempDir } from './lib/case-runtime.mjs'
import { balancesFor, installationIds } from './lib/fixtures.mjs'
import { startDouble } from './lib/start-double.mjs'
import { closeStore, createStore, populate } from './lib/stores.mjs'

const [kind = 'memory', count = '20000', top = '40'] = process.argv.slice(2)
const ids = installationIds(Number(count))
const double = await startDouble()
const store = await createStore(kind, { dir: tempDir('allocations') })
await populate(store, ids, { parallel: kind === 'postgres' ? 32 : 1 })
const reporter = createBalanceReporter({
  store,
  getBalances: () => balancesFor(123_456),
  apiUrl: double.url,
  concurrency: 16,
  autoStart: false,
  logger: silentLogger,
})
try {
  await reporter.reportAll()
  const session = new Session()
  session.connect()
  await session.post('HeapProfiler.enable')
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  })
  await reporter.reportAll()
  const { profile } = await session.post('HeapProfiler.stopSampling')
  session.disconnect()

  const bytesBy = new Map()
  let total = 0
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame
    const file = url
      .replace(/.*\/(node_modules|packages)\//, '')
      .split('/')
      .slice(-2)
      .join('/')
    const name = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`
    if (node.selfSize > 0) {
      bytesBy.set(name, (bytesBy.get(name) ?? 0) + node.selfSize)
      total += node.selfSize
    }
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  console.log(
    `${kind}: ${(total / ids.length / 1024).toFixed(1)} KB allocated per report (sampled)`,
  )
  const rows = [...bytesBy].sort((a, b) => b[1] - a[1]).slice(0, Number(top))
  for (const [name, bytes] of rows) {
    console.log(`${(bytes / ids.length).toFixed(0).padStart(7)} B/report  ${name}`)
  }
} finally {
  await reporter.close()
  await closeStore(store)
  await double.stop()
}
