// 6. Scale: N installations in the SQLite store (and PostgreSQL when core exports
// `postgresStore`): one full `reportAll()` sweep per fresh process, its rate and the process's
// RSS growth (peak during the sweep minus RSS after start-up).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { assert, caseSizes, progress, reportFigure, tempDir } from '../lib/case-runtime.mjs'
import { installationIds } from '../lib/fixtures.mjs'
import { startDouble } from '../lib/start-double.mjs'
import {
  closeStore,
  createStore,
  dropPostgresTable,
  hasPostgresStore,
  populate,
  postgresUnavailable,
  vacuumPostgresTable,
} from '../lib/stores.mjs'

const { scaleInstallations: count, scaleRounds, concurrency } = await caseSizes()
const SWEEPER = fileURLToPath(new URL('../lib/scale-sweep.mjs', import.meta.url))
const MB = 1024 * 1024

function sweepInChild(kind, dir, doubleUrl) {
  const child = fork(SWEEPER, [], {
    execArgv: ['--expose-gc'],
    env: {
      ...process.env,
      BENCH_STORE_KIND: kind,
      BENCH_STORE_DIR: dir,
      BENCH_DOUBLE_URL: doubleUrl,
      BENCH_CONCURRENCY: String(concurrency),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    let result
    child.on('message', (message) => {
      result = message
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`sweep process exited with code ${code}`)),
    )
  })
}

async function benchStore(kind, double) {
  const dir = tempDir(`scale-${kind}`)
  progress(`scale: storing ${count} installations in ${kind}`)
  const store = await createStore(kind, { dir })
  await populate(store, installationIds(count), { parallel: kind === 'postgres' ? 32 : 1 })
  await closeStore(store)
  const rates = []
  const growth = []
  for (let round = 0; round < scaleRounds; round++) {
    await double.reset()
    // What autovacuum does between two hourly sweeps in production, outside the timing.
    if (kind === 'postgres') await vacuumPostgresTable()
    const result = await sweepInChild(kind, dir, double.url)
    assert(result.summary.delivered === count, `swept ${result.summary.delivered} of ${count}`)
    rates.push(count / (result.sweepMs / 1000))
    growth.push((result.peak - result.baseline) / MB)
    progress(
      `${kind} sweep ${round + 1}: ${(result.sweepMs / 1000).toFixed(1)} s, RSS ${(result.baseline / MB).toFixed(0)} → ${(result.peak / MB).toFixed(0)} MB`,
    )
  }
  const name = kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'
  const bench = `Scale (${count.toLocaleString('en-US')} installations, one reportAll() per fresh process, concurrency ${concurrency})`
  reportFigure({
    id: `scale.${kind}.rate`,
    bench,
    label: `${name}: installations swept per second`,
    unit: 'inst/s',
    samples: rates,
    goal: { op: '>=', value: 5_000 },
  })
  reportFigure({
    id: `scale.${kind}.rss`,
    bench,
    label: `${name}: RSS growth during the sweep`,
    unit: 'MB',
    samples: growth,
    goal: { op: '<=', value: 200 },
  })
}

// Without a database the PostgreSQL half is skipped, loudly; BENCH_REQUIRE_POSTGRES=1 (CI)
// makes that an error instead.
async function benchPostgres(double) {
  const unavailable = hasPostgresStore ? await postgresUnavailable() : 'core has no postgresStore'
  if (unavailable === null) {
    await benchStore('postgres', double)
    await dropPostgresTable()
  } else if (process.env.BENCH_REQUIRE_POSTGRES === '1') {
    throw new Error(`PostgreSQL required but unavailable: ${unavailable}`)
  } else {
    progress(`scale: PostgreSQL SKIPPED (${unavailable}); set BENCH_POSTGRES_URL`)
  }
}

// BENCH_SCALE_STORES=postgres (a comma list) runs one half only, e.g. to profile it.
const storeKinds = (process.env.BENCH_SCALE_STORES ?? 'sqlite,postgres').split(',')
const double = await startDouble()
try {
  if (storeKinds.includes('sqlite')) await benchStore('sqlite', double)
  if (storeKinds.includes('postgres')) await benchPostgres(double)
} finally {
  await double.stop()
}
