// Profiles the hook-overhead servers under load on ONE side at a time, so a profile can be read
// per side (bench/run-benchmarks.mjs --profile mixes every side into one server profile).
//   node bench/profile-hook-side.mjs <side> [seconds=10]   side: a port name of hook-servers.mjs
//   (honoPlain, honoNoop, honoMiddleware, honoWrapper, expressPlain, expressRoute, expressWrapper)
// Writes bench/profiles/hook-<side>-<time>.cpuprofile and prints the requests it served and the
// server's CPU µs per request; summarize with `node bench/profile-summary.mjs <file> --ops=<requests>`.
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startChild } from './lib/child-process.mjs'
import { installationIds } from './lib/fixtures.mjs'
import { usagePaths } from './lib/hook-apps.mjs'
import { startDouble } from './lib/start-double.mjs'

const [side, seconds = '10'] = process.argv.slice(2)
if (!side) throw new Error('usage: node bench/profile-hook-side.mjs <side> [seconds]')
const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const dir = here('profiles/')
mkdirSync(dir, { recursive: true })
const name = `hook-${side}-${Date.now()}.cpuprofile`

const double = await startDouble()
const servers = await startChild(here('lib/hook-servers.mjs'), {
  env: { BENCH_DOUBLE_URL: double.url, BENCH_HOOK_INSTALLATIONS: '100' },
  execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`],
})
const load = await startChild(here('lib/load-generator.mjs'))
const port = servers.info.ports[side]
if (!port) throw new Error(`no side ${side}: ${Object.keys(servers.info.ports)}`)
const paths = usagePaths(installationIds(100))
const run = (durationMs) =>
  load.call({ type: 'run', origin: `http://127.0.0.1:${port}`, paths, durationMs, connections: 32 })
try {
  await run(2000) // warm-up
  await servers.call({ type: 'settle' })
  const before = (await servers.call({ type: 'cpu' })).us
  const result = await run(Number(seconds) * 1000)
  await servers.call({ type: 'settle' })
  const cpuUs = (await servers.call({ type: 'cpu' })).us - before
  console.log(
    `${side}: ${result.requests} requests (${result.failures} failed), ${((result.requests * 1000) / result.elapsedMs).toFixed(0)} req/s, server CPU ${(cpuUs / result.requests).toFixed(2)} µs/request`,
  )
  console.log(
    `profile: bench/profiles/${name} (includes the warm-up; --ops=${result.requests} is approximate)`,
  )
} finally {
  await Promise.all([load.stop(), servers.stop(), double.stop()])
}
