// The servers of the hook-overhead benchmark, in their own process: Hono and Express, each with
// and without the hook, sharing one reporter (SQLite store) that reports to the Vercel double at
// BENCH_DOUBLE_URL. Commands over IPC: { type: 'settle' } waits until every notified change was
// reported, so background reports from one leg never run during the next; { type: 'cpu' }
// answers the process's CPU time. Profiled with the case under `run-benchmarks.mjs --profile`.
import { once } from 'node:events'
import { serve } from '@hono/node-server'
import { installationIds } from './fixtures.mjs'
import { expressApp, honoApp } from './hook-apps.mjs'
import { settledReporter } from './settled-reporter.mjs'

const ids = installationIds(Number(process.env.BENCH_HOOK_INSTALLATIONS ?? 100))
const { reporter } = await settledReporter({
  ids,
  apiUrl: process.env.BENCH_DOUBLE_URL,
  cents: 4_200,
  dirName: 'hook',
})

// The hook's own cost, apart from the reporting it causes: a reporter whose notify() only counts.
let stubNotifies = 0
const stubReporter = {
  ...reporter,
  notify: () => {
    stubNotifies++
  },
  flush: async () => {},
}

const listen = async (start) => {
  const server = start()
  if (!server.listening) await once(server, 'listening')
  return server.address().port
}
const onLoopback = (app) => serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
const ports = {
  honoPlain: await listen(() => onLoopback(honoApp({ reporter, hook: false }))),
  honoNoop: await listen(() => onLoopback(honoApp({ reporter, hook: false, noop: true }))),
  honoMiddleware: await listen(() => onLoopback(honoApp({ reporter, hook: 'middleware' }))),
  honoWrapper: await listen(() => onLoopback(honoApp({ reporter, hook: 'wrapper' }))),
  honoWrapperStub: await listen(() =>
    onLoopback(honoApp({ reporter: stubReporter, hook: 'wrapper' })),
  ),
  expressPlain: await listen(() => expressApp({ reporter, hook: false }).listen(0, '127.0.0.1')),
  expressRoute: await listen(() => expressApp({ reporter, hook: true }).listen(0, '127.0.0.1')),
  expressWrapper: await listen(() =>
    expressApp({ reporter, hook: true, mount: 'wrapper' }).listen(0, '127.0.0.1'),
  ),
  expressWrapperStub: await listen(() =>
    expressApp({ reporter: stubReporter, hook: true, mount: 'wrapper' }).listen(0, '127.0.0.1'),
  ),
  expressUseNoop: await listen(() =>
    expressApp({ reporter, hook: false, mount: 'use', noop: true }).listen(0, '127.0.0.1'),
  ),
  expressUseHook: await listen(() =>
    expressApp({ reporter, hook: true, mount: 'use' }).listen(0, '127.0.0.1'),
  ),
}

let reports = 0
reporter.onReport(() => reports++)
process.on('message', async (message) => {
  // The process's CPU time so far (µs): a leg's server CPU per request is far less sensitive to
  // the other jobs on the machine than its requests per second.
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ type: 'cpu', us: user + system })
    return
  }
  if (message.type !== 'settle') return
  try {
    await reporter.flush()
    process.send({ type: 'settled', reports, stubNotifies })
  } catch (error) {
    process.send({ type: 'error', message: String(error) })
  }
})
process.on('disconnect', () => process.exit(0))
// A normal exit on stop(), so that `--cpu-prof` (bench --profile) writes its profile.
process.on('SIGTERM', () => process.exit(0))
process.send({ type: 'ready', ports })
