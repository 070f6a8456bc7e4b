// 2. Hook overhead. Over HTTP: the same Hono and Express routes without the hook, with its
// recommended form (`withBalanceHook` wrapping the route's handler: the goals are judged on it)
// and with the `balanceHook` middleware, served by one process and loaded from another, legs
// rotating (A B C, then C B A). Each leg gives requests/s and the server's CPU µs per request.
// In process: Hono's `app.request()` loop without the hook and with each form, µs added.
import { fileURLToPath } from 'node:url'
import { assert, caseSizes, progress, reportFigure } from '../lib/case-runtime.mjs'
import { startChild } from '../lib/child-process.mjs'
import { installationIds } from '../lib/fixtures.mjs'
import { honoApp, usagePaths } from '../lib/hook-apps.mjs'
import { settledReporter } from '../lib/settled-reporter.mjs'
import { startDouble } from '../lib/start-double.mjs'
import { median, nowNs } from '../lib/stats.mjs'

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

const serverCpuUs = async () => (await servers.call({ type: 'cpu' })).us

/** One leg of load on `port`: requests/s, and the server's CPU µs per request (reports included). */
async function leg(port) {
  const cpuBefore = await serverCpuUs()
  const result = await load.call({
    type: 'run',
    origin: `http://127.0.0.1:${port}`,
    paths,
    durationMs: hookLegMs,
    connections: hookConnections,
  })
  assert(result.failures === 0, `${result.failures} failed requests`)
  // The reports this leg's notify() calls caused are sent now, and counted in its CPU time.
  await servers.call({ type: 'settle' })
  const cpuUs = (await serverCpuUs()) - cpuBefore
  return { rate: (result.requests * 1000) / result.elapsedMs, cpuUs: cpuUs / result.requests }
}

/**
 * Loads each side for one leg per round, in an order that rotates round by round (A B C, then
 * C B A, ...), so a drift in machine load hits every side alike. Returns, per side and round,
 * requests/s and server CPU µs per request.
 */
async function rounds(sides, label) {
  const names = Object.keys(sides)
  for (const name of names) await leg(sides[name]) // warm-up, unrecorded
  const rates = Object.fromEntries(names.map((name) => [name, []]))
  const cpu = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < hookRounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) {
      const { rate, cpuUs } = await leg(sides[name])
      rates[name].push(rate)
      cpu[name].push(cpuUs)
    }
    progress(
      `${label} round ${round + 1}: ${names.map((n) => `${n} ${rates[n][round].toFixed(0)} req/s ${cpu[n][round].toFixed(1)} µs`).join(', ')}`,
    )
  }
  return { rates, cpu }
}

const lossPercent = (without, withIt) => without.map((rate, i) => (100 * (rate - withIt[i])) / rate)
const addedUs = (without, withIt) => withIt.map((us, i) => us - without[i])
const httpBench = `Hook overhead over HTTP (${hookConnections} connections, ${HOOK_INSTALLATIONS} installations, ${hookLegMs} ms legs)`
const cpuBench = `Hook overhead over HTTP: server CPU per request (same legs; includes the reports the hook caused)`

/**
 * One framework's sides, each the same route: `plain` (no hook) and the others, described by
 * `{ label, goal? }`. Every side gets req/s, its loss against plain, and server CPU µs per
 * request with the µs it adds; the goal is judged on the side that carries it.
 */
function reportSides(framework, { rates, cpu }, sides) {
  reportFigure({
    id: `hook.${framework}.plain`,
    bench: httpBench,
    label: `${sides.plain.label}`,
    unit: 'req/s',
    samples: rates.plain,
  })
  reportFigure({
    id: `hook.${framework}.plain.cpu`,
    bench: cpuBench,
    label: `${sides.plain.label}`,
    unit: 'µs/req',
    samples: cpu.plain,
  })
  for (const [name, side] of Object.entries(sides)) {
    if (name === 'plain') continue
    reportFigure({
      id: `hook.${framework}.${name}`,
      bench: httpBench,
      label: side.label,
      unit: 'req/s',
      samples: rates[name],
    })
    reportFigure({
      id: `hook.${framework}.${name}.loss`,
      bench: httpBench,
      label: `${side.short}: requests/s lost`,
      unit: '%',
      samples: lossPercent(rates.plain, rates[name]),
      goal: side.goal === undefined ? undefined : { op: '<=', value: side.goal },
      detail: side.detail,
    })
    reportFigure({
      id: `hook.${framework}.${name}.cpu`,
      bench: cpuBench,
      label: `${side.short}: server CPU added per request`,
      unit: 'µs',
      samples: addedUs(cpu.plain, cpu[name]),
      detail: `median of per-round differences; ${median(cpu[name]).toFixed(1)} µs/request with it, ${median(cpu.plain).toFixed(1)} without`,
    })
  }
}

/** The recommended form, on which the goal is judged. */
const RECOMMENDED_SIDE = (name, goal, detail) => ({
  label: `${name} with withBalanceHook(options, handler) (recommended form)`,
  short: `${name} withBalanceHook(handler), recommended`,
  goal,
  detail,
})

/** The recommended form with a reporter whose notify() only counts: the hook's own cost. */
const STUB_SIDE = (name) => ({
  label: `${name} with withBalanceHook(options, handler), notify() a no-op`,
  short: `${name} withBalanceHook(handler), notify() a no-op`,
  detail: 'the hook without the reporting it causes (no notify work, no marks, no reports)',
})

/** Hono: the recommended handler wrapper (goal), the middleware, and a no-op middleware. */
async function honoOverHttp(goal) {
  const { ports } = servers.info
  const measured = await rounds(
    {
      plain: ports.honoPlain,
      noop: ports.honoNoop,
      middleware: ports.honoMiddleware,
      wrapper: ports.honoWrapper,
      wrapperStub: ports.honoWrapperStub,
    },
    'hono',
  )
  reportSides('hono', measured, {
    plain: { label: 'Hono without hook' },
    wrapper: RECOMMENDED_SIDE('Hono', goal, "the route keeps Hono's single-handler fast path"),
    middleware: {
      label: 'Hono with app.use(path, balanceHook(options)) (middleware form)',
      short: 'Hono balanceHook middleware',
    },
    wrapperStub: STUB_SIDE('Hono'),
    noop: {
      label: 'Hono with a middleware that only awaits next() (no hook)',
      short: 'Hono no-op middleware',
      detail: "Hono's own cost of one middleware, no hook in it",
    },
  })
}

/** Express: the recommended handler wrapper (goal) and the middleware in the route's chain. */
async function expressOverHttp(goal) {
  const { ports } = servers.info
  const measured = await rounds(
    {
      plain: ports.expressPlain,
      route: ports.expressRoute,
      wrapper: ports.expressWrapper,
      wrapperStub: ports.expressWrapperStub,
    },
    'express',
  )
  reportSides('express', measured, {
    plain: { label: 'Express without hook' },
    wrapper: RECOMMENDED_SIDE('Express', goal, 'no extra layer or next() step'),
    route: {
      label: 'Express with app.post(path, balanceHook(options), handler) (middleware form)',
      short: 'Express balanceHook middleware in the route',
    },
    wrapperStub: STUB_SIDE('Express'),
  })
}

/** Express with the hook mounted by `app.use(path, hook)`, beside a no-op `app.use` layer. */
async function expressAppUse() {
  const { ports } = servers.info
  const measured = await rounds(
    { plain: ports.expressPlain, useNoop: ports.expressUseNoop, useHook: ports.expressUseHook },
    'express app.use',
  )
  reportSides('express.use', measured, {
    plain: { label: 'Express without hook (app.use rounds)' },
    useNoop: {
      label: 'Express with an app.use(path) layer that only calls next() (no hook)',
      short: 'Express no-op app.use(path) layer',
      detail: "Express's own cost of the extra layer, no hook in it",
    },
    useHook: {
      label: 'Express with app.use(path, balanceHook(options)) (middleware form)',
      short: 'Express balanceHook mounted with app.use(path)',
    },
  })
}

async function inProcess() {
  const { reporter } = await settledReporter({
    ids,
    apiUrl: double.url,
    cents: 4_200,
    dirName: 'hook-in-process',
  })
  const apps = {
    plain: honoApp({ reporter, hook: false }),
    middleware: honoApp({ reporter, hook: 'middleware' }),
    wrapper: honoApp({ reporter, hook: 'wrapper' }),
  }
  const names = Object.keys(apps)
  const requests = paths.map((path) => `http://localhost${path}`)
  const batch = async (app) => {
    const started = nowNs()
    for (let i = 0; i < hookInProcessRequests; i++) {
      const response = await app.request(requests[i % requests.length], { method: 'POST' })
      if (response.status !== 200) throw new Error(`status ${response.status}`)
    }
    return (nowNs() - started) / 1000 / hookInProcessRequests
  }
  for (let i = 0; i < 3; i++) for (const name of names) await batch(apps[name])
  const us = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < hookInProcessRounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse()
    for (const name of order) us[name].push(await batch(apps[name]))
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
    samples: us.plain,
  })
  reportFigure({
    id: 'hook.inprocess.wrapper.added',
    bench,
    label: 'µs added per request by withBalanceHook(handler) (recommended form)',
    unit: 'µs',
    samples: addedUs(us.plain, us.wrapper),
    goal: { op: '<=', value: 2 },
    detail: `median of per-round differences; ${median(us.plain).toFixed(1)} µs/request without the hook`,
  })
  reportFigure({
    id: 'hook.inprocess.middleware.added',
    bench,
    label: 'µs added per request by the balanceHook middleware',
    unit: 'µs',
    samples: addedUs(us.plain, us.middleware),
    detail: 'median of per-round differences',
  })
}

try {
  progress('hook overhead over HTTP: Hono')
  await honoOverHttp(5)
  progress('hook overhead over HTTP: Express')
  await expressOverHttp(3)
  progress('hook overhead over HTTP: Express, hook mounted with app.use')
  await expressAppUse()
  progress('hook overhead in process')
  await inProcess()
} finally {
  await Promise.all([load.stop(), servers.stop(), double.stop()])
}
