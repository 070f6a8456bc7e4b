// 2. Hook overhead. Over HTTP: the same Hono and Express routes with and without `balanceHook`,
// served by one process and loaded from another, legs alternating A B B A. In process: Hono's
// `app.request()` loop with and without the hook, alternating, µs added per request.
import { fileURLToPath } from 'node:url'
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { assert, caseSizes, progress, reportFigure, tempDir } from '../lib/case-runtime.mjs'
import { startChild } from '../lib/child-process.mjs'
import { balancesFor, installationIds } from '../lib/fixtures.mjs'
import { honoApp, usagePaths } from '../lib/hook-apps.mjs'
import { startDouble } from '../lib/start-double.mjs'
import { median, nowNs } from '../lib/stats.mjs'
import { createStore, populate } from '../lib/stores.mjs'

const sizes = await caseSizes()
const { hookRounds, hookLegMs, hookConnections, hookInProcessRequests, hookInProcessRounds } = sizes
const HOOK_INSTALLATIONS = 100
const ids = installationIds(HOOK_INSTALLATIONS)
const paths = usagePaths(ids)
const here = (path) => fileURLToPath(new URL(path, import.meta.url))

const double = await startDouble()
const servers = await startChild(here('../lib/hook-servers.mjs'), {
  env: { BENCH_DOUBLE_URL: double.url, BENCH_HOOK_INSTALLATIONS: String(HOOK_INSTALLATIONS) },
})
const load = await startChild(here('../lib/load-generator.mjs'))

async function leg(port) {
  const result = await load.call({
    type: 'run',
    origin: `http://127.0.0.1:${port}`,
    paths,
    durationMs: hookLegMs,
    connections: hookConnections,
  })
  assert(result.failures === 0, `${result.failures} failed requests`)
  await servers.call({ type: 'settle' })
  return (result.requests * 1000) / result.elapsedMs
}

async function overHttp(framework, goal) {
  const { ports } = servers.info
  const plainPort = ports[`${framework}Plain`]
  const hookPort = ports[`${framework}Hook`]
  await leg(plainPort) // warm-up, unrecorded
  await leg(hookPort)
  const plain = []
  const hooked = []
  const loss = []
  for (let round = 0; round < hookRounds; round++) {
    // A B, then B A: a drift in machine load over the round hits both sides equally.
    const first = round % 2 === 0 ? 'plain' : 'hook'
    const rate = {}
    rate[first] = await leg(first === 'plain' ? plainPort : hookPort)
    const second = first === 'plain' ? 'hook' : 'plain'
    rate[second] = await leg(second === 'plain' ? plainPort : hookPort)
    plain.push(rate.plain)
    hooked.push(rate.hook)
    loss.push((100 * (rate.plain - rate.hook)) / rate.plain)
    progress(
      `${framework} round ${round + 1}: ${rate.plain.toFixed(0)} req/s without, ${rate.hook.toFixed(0)} with`,
    )
  }
  const name = framework === 'hono' ? 'Hono' : 'Express'
  const bench = `Hook overhead over HTTP (${hookConnections} connections, ${HOOK_INSTALLATIONS} installations, ${hookLegMs} ms legs)`
  reportFigure({
    id: `hook.${framework}.plain`,
    bench,
    label: `${name} without hook`,
    unit: 'req/s',
    samples: plain,
  })
  reportFigure({
    id: `hook.${framework}.hook`,
    bench,
    label: `${name} with balanceHook`,
    unit: 'req/s',
    samples: hooked,
  })
  reportFigure({
    id: `hook.${framework}.loss`,
    bench,
    label: `${name}: requests/s lost to the hook`,
    unit: '%',
    samples: loss,
    goal: { op: '<=', value: goal },
  })
}

async function inProcess() {
  const store = await createStore('sqlite', { dir: tempDir('hook-in-process') })
  await populate(store, ids)
  const reporter = createBalanceReporter({
    store,
    getBalances: () => balancesFor(4_200),
    apiUrl: double.url,
    autoStart: false,
    logger: silentLogger,
  })
  await reporter.reportAll()
  const apps = {
    plain: honoApp({ reporter, hook: false }),
    hook: honoApp({ reporter, hook: true }),
  }
  const requests = paths.map((path) => `http://localhost${path}`)
  const batch = async (app) => {
    const started = nowNs()
    for (let i = 0; i < hookInProcessRequests; i++) {
      const response = await app.request(requests[i % requests.length], { method: 'POST' })
      if (response.status !== 200) throw new Error(`status ${response.status}`)
    }
    return (nowNs() - started) / 1000 / hookInProcessRequests
  }
  for (let i = 0; i < 3; i++) {
    await batch(apps.plain)
    await batch(apps.hook)
  }
  const plain = []
  const added = []
  for (let round = 0; round < hookInProcessRounds; round++) {
    const order = round % 2 === 0 ? ['plain', 'hook'] : ['hook', 'plain']
    const us = {}
    for (const side of order) us[side] = await batch(apps[side])
    plain.push(us.plain)
    added.push(us.hook - us.plain)
    // Let the reports the hook triggered go out between rounds, not inside the next batch.
    await reporter.flush()
  }
  await reporter.close()
  const bench = `Hook overhead in process (Hono app.request(), ${hookInProcessRequests} requests per batch)`
  reportFigure({
    id: 'hook.inprocess.plain',
    bench,
    label: 'Hono app.request() without hook',
    unit: 'µs/req',
    samples: plain,
  })
  reportFigure({
    id: 'hook.inprocess.added',
    bench,
    label: 'µs added per request by balanceHook',
    unit: 'µs',
    samples: added,
    goal: { op: '<=', value: 2 },
    detail: `median of per-round differences; ${median(plain).toFixed(1)} µs/request without the hook`,
  })
}

try {
  progress('hook overhead over HTTP: Hono')
  await overHttp('hono', 5)
  progress('hook overhead over HTTP: Express')
  await overHttp('express', 3)
  progress('hook overhead in process')
  await inProcess()
} finally {
  await Promise.all([load.stop(), servers.stop(), double.stop()])
}
