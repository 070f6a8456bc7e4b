// The servers of the hook-overhead benchmark, in their own process: Hono and Express, each with
// and without the hook, sharing one reporter (SQLite store) that reports to the Vercel double at
// BENCH_DOUBLE_URL. Commands over IPC: { type: 'settle' } waits until every notified change was
// reported, so background reports from one leg never run during the next.
import { once } from 'node:events'
import { serve } from '@hono/node-server'
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { tempDir } from './case-runtime.mjs'
import { balancesFor, installationIds } from './fixtures.mjs'
import { expressApp, honoApp } from './hook-apps.mjs'
import { createStore, populate } from './stores.mjs'

const ids = installationIds(Number(process.env.BENCH_HOOK_INSTALLATIONS ?? 100))
const store = await createStore('sqlite', { dir: tempDir('hook') })
await populate(store, ids)
const reporter = createBalanceReporter({
  store,
  getBalances: () => balancesFor(4_200),
  apiUrl: process.env.BENCH_DOUBLE_URL,
  autoStart: false,
  logger: silentLogger,
})
await reporter.reportAll() // clear the pending marks that saving the tokens left

const listen = async (start) => {
  const server = start()
  if (!server.listening) await once(server, 'listening')
  return server.address().port
}
const ports = {
  honoPlain: await listen(() =>
    serve({ fetch: honoApp({ reporter, hook: false }).fetch, port: 0, hostname: '127.0.0.1' }),
  ),
  honoNoop: await listen(() =>
    serve({
      fetch: honoApp({ reporter, hook: false, noop: true }).fetch,
      port: 0,
      hostname: '127.0.0.1',
    }),
  ),
  honoHook: await listen(() =>
    serve({ fetch: honoApp({ reporter, hook: true }).fetch, port: 0, hostname: '127.0.0.1' }),
  ),
  expressPlain: await listen(() => expressApp({ reporter, hook: false }).listen(0, '127.0.0.1')),
  expressHook: await listen(() => expressApp({ reporter, hook: true }).listen(0, '127.0.0.1')),
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
  if (message.type !== 'settle') return
  try {
    await reporter.flush()
    process.send({ type: 'settled', reports })
  } catch (error) {
    process.send({ type: 'error', message: String(error) })
  }
})
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready', ports })
