// 1. Sender throughput: `reportAll()` over N installations with encrypted stored tokens, side by
// side with a bare undici Pool and with @vercel/sdk, all at the same concurrency and against the
// same Vercel double (another process). Legs alternate order every round; ratios are per round.
// For profiling one side: BENCH_SENDER_LEGS=reporter BENCH_SENDER_STORES=sqlite (comma lists).
import { createBalanceReporter, silentLogger } from '@prepaid-balances/core'
import { Vercel } from '@vercel/sdk'
import { Pool } from 'undici'
import { assert, caseSizes, progress, reportFigure, tempDir } from '../lib/case-runtime.mjs'
import { balancesFor, installationIds, tokenFor } from '../lib/fixtures.mjs'
import { startDouble } from '../lib/start-double.mjs'
import { median, nowMs } from '../lib/stats.mjs'
import { closeStore, createStore, populate } from '../lib/stores.mjs'

const sizes = await caseSizes()
const { senderInstallations: count, senderRounds, concurrency } = sizes
const sdkCount = Math.min(count, sizes.senderSdkInstallations)
const ids = installationIds(count)
const legNames = (process.env.BENCH_SENDER_LEGS ?? 'reporter,undici,sdk').split(',')
const storeKinds = (process.env.BENCH_SENDER_STORES ?? 'sqlite,memory').split(',')
const getBalances = () => balancesFor(123_456)
const double = await startDouble()

/** Runs `send(id)` for every id with `concurrency` workers; the shape hand-written code takes. */
async function sweep(send, targets = ids) {
  let next = 0
  const worker = async () => {
    while (next < targets.length) await send(targets[next++])
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

// (a) The practical limit: plaintext tokens in memory, one keep-alive pool, nothing recorded.
const tokens = new Map(ids.map((id) => [id, tokenFor(id)]))
const pool = new Pool(double.url, { connections: concurrency })
async function undiciSend(id) {
  const { statusCode, body } = await pool.request({
    method: 'POST',
    path: `/v1/installations/${id}/billing/balance`,
    headers: { authorization: `Bearer ${tokens.get(id)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ timestamp: new Date().toISOString(), balances: getBalances(id) }),
  })
  await body.dump()
  if (statusCode !== 201) throw new Error(`undici baseline got ${statusCode}`)
}

// (b) The SDK: one client per installation, since each installation has its own token.
async function sdkSend(id) {
  const vercel = new Vercel({ bearerToken: tokens.get(id), serverURL: double.url })
  await vercel.marketplace.submitPrepaymentBalances({
    integrationConfigurationId: id,
    requestBody: { timestamp: new Date(), balances: getBalances(id) },
  })
}

async function timed(name, run, sent) {
  await double.reset()
  const cpu = process.cpuUsage()
  const started = nowMs()
  await run()
  const seconds = (nowMs() - started) / 1000
  const used = process.cpuUsage(cpu)
  const stats = await double.stats()
  assert(stats.byStatus['201'] === sent, `${name}: ${stats.byStatus['201']} of ${sent} accepted`)
  return { rate: sent / seconds, cpuUs: (used.user + used.system) / sent }
}

async function benchStore(kind) {
  progress(`sender throughput: ${count} installations in the ${kind} store`)
  const store = await createStore(kind, { dir: tempDir('sender') })
  await populate(store, ids)
  const reporter = createBalanceReporter({
    store,
    getBalances,
    apiUrl: double.url,
    concurrency,
    autoStart: false,
    logger: silentLogger,
  })
  const allLegs = {
    reporter: async () => {
      const summary = await reporter.reportAll()
      assert(summary.delivered === count, `reportAll delivered ${summary.delivered} of ${count}`)
    },
    undici: () => sweep(undiciSend),
    sdk: () => sweep(sdkSend, ids.slice(0, sdkCount)),
  }
  const legs = Object.fromEntries(legNames.map((name) => [name, allLegs[name]]))
  // Warm-up: JIT, connections, SQLite page cache.
  for (const leg of Object.values(legs)) await leg()
  const rates = { reporter: [], undici: [], sdk: [] }
  const cpu = { reporter: [], undici: [], sdk: [] }
  const vsUndici = []
  const vsSdk = []
  for (let round = 0; round < senderRounds; round++) {
    const order = round % 2 === 0 ? legNames : [...legNames].reverse()
    const rate = {}
    for (const name of order) {
      const leg = await timed(name, legs[name], name === 'sdk' ? sdkCount : count)
      rate[name] = leg.rate
      rates[name].push(leg.rate)
      cpu[name].push(leg.cpuUs)
    }
    vsUndici.push(rate.reporter / rate.undici)
    vsSdk.push(rate.reporter / rate.sdk)
    progress(
      `round ${round + 1}: ${order.map((name) => `${name} ${rate[name].toFixed(0)}/s`).join(', ')}`,
    )
  }
  await reporter.close()
  await closeStore(store)

  const bench = `Sender throughput (${count.toLocaleString('en-US')} installations, concurrency ${concurrency})`
  const label = kind === 'sqlite' ? 'SQLite' : 'memory'
  // CPU of this (client) process per request: less sensitive to a noisy machine than rates.
  const cpuDetail = (name) => `client CPU ${median(cpu[name]).toFixed(0)} µs/request`
  const figure = (id, text, unit, samples, extra) => {
    if (samples.length === 0 || samples.some(Number.isNaN)) return // a leg left out by BENCH_SENDER_LEGS
    reportFigure({ id: `sender.${kind}.${id}`, bench, label: text, unit, samples, ...extra })
  }
  figure('rate', `reportAll(), ${label} store`, 'inst/s', rates.reporter, {
    detail: cpuDetail('reporter'),
  })
  figure('undici', `bare undici Pool (beside ${label})`, 'req/s', rates.undici, {
    detail: cpuDetail('undici'),
  })
  const subset = sdkCount < count ? `; over the first ${sdkCount.toLocaleString('en-US')}` : ''
  figure('sdk', `@vercel/sdk (beside ${label})`, 'req/s', rates.sdk, {
    detail: `${cpuDetail('sdk')}${subset}`,
  })
  figure('vs-undici', `reportAll() ${label} ÷ bare undici`, '×', vsUndici, {
    goal: { op: '>=', value: 0.6 },
  })
  figure('vs-sdk', `reportAll() ${label} ÷ @vercel/sdk`, '×', vsSdk, {
    goal: { op: '>=', value: 5 },
  })
}

try {
  for (const kind of storeKinds) await benchStore(kind)
} finally {
  await pool.close()
  await double.stop()
}
