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

/**
 * Loads each side for one leg per round, in an order that rotates round by round (A B C, then
 * C B A, ...), so a drift in machine load hits every side alike. Returns req/s per side per round.
 */
async function rounds(sides, label) {
  const names = Object.keys(sides)
  for (const name of names) await leg(sides[name]) // warm-up, unrecorded
  const rates = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < hookRounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) rates[name].push(await leg(sides[name]))
    progress(
      `${label} round ${round + 1}: ${names.map((n) => `${n} ${rates[n][round].toFixed(0)}`).join(', ')} req/s`,
    )
  }
  return rates
}

const lossPercent = (without, withIt) => without.map((rate, i) => (100 * (rate - withIt[i])) / rate)
const httpBench = `Hook overhead over HTTP (${hookConnections} connections, ${HOOK_INSTALLATIONS} installations, ${hookLegMs} ms legs)`

async function overHttp(framework, goal) {
  const { ports } = servers.info
  const sides = { plain: ports[`${framework}Plain`], hook: ports[`${framework}Hook`] }
  // Hono: beside a middleware that only awaits next(), the framework's own cost of one.
  if (framework === 'hono') sides.noop = ports.honoNoop
  const rates = await rounds(sides, framework)
  const name = framework === 'hono' ? 'Hono' : 'Express'
  const where = framework === 'hono' ? '' : ' (hook in the route, as examples/express-app)'
  reportFigure({
    id: `hook.${framework}.plain`,
    bench: httpBench,
    label: `${name} without hook`,
    unit: 'req/s',
    samples: rates.plain,
  })
  reportFigure({
    id: `hook.${framework}.hook`,
    bench: httpBench,
    label: `${name} with balanceHook${where}`,
    unit: 'req/s',
    samples: rates.hook,
  })
  reportFigure({
    id: `hook.${framework}.loss`,
    bench: httpBench,
    label: `${name}: requests/s lost to the hook`,
    unit: '%',
    samples: lossPercent(rates.plain, rates.hook),
    goal: { op: '<=', value: goal },
  })
  if (rates.noop) {
    reportFigure({
      id: `hook.${framework}.noop-loss`,
      bench: httpBench,
      label: `${name}: lost to a middleware that only awaits next()`,
      unit: '%',
      samples: lossPercent(rates.plain, rates.noop),
      detail: "Hono's own cost of one middleware, no hook in it",
    })
  }
}

/** Express with the hook mounted by `app.use(path, hook)`, beside a no-op `app.use` layer. */
async function expressAppUse() {
  const { ports } = servers.info
  const rates = await rounds(
    { plain: ports.expressPlain, noop: ports.expressUseNoop, hook: ports.expressUseHook },
    'express app.use',
  )
  reportFigure({
    id: 'hook.express.use.noop-loss',
    bench: httpBench,
    label: 'Express: lost to an app.use(path) layer that only calls next()',
    unit: '%',
    samples: lossPercent(rates.plain, rates.noop),
    detail: "Express's own cost of the extra layer, no hook in it",
  })
  reportFigure({
    id: 'hook.express.use.loss',
    bench: httpBench,
    label: 'Express: lost to balanceHook mounted with app.use(path)',
    unit: '%',
    samples: lossPercent(rates.plain, rates.hook),
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
  progress('hook overhead over HTTP: Express, hook mounted with app.use')
  await expressAppUse()
  progress('hook overhead in process')
  await inProcess()
} finally {
  await Promise.all([load.stop(), servers.stop(), double.stop()])
}
