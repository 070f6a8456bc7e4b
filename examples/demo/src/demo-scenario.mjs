import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { generateEncryptionKey } from '@prepaid-balances/core'
import { startExample } from './example-process.mjs'
import { partnerClient } from './http-call.mjs'
import { startVercelDouble } from './vercel-double.mjs'

/** Three customers: what they buy (USD invoice totals) and the tokens they try to use. */
export const DEMO_CUSTOMERS = [
  { installationId: 'icfg_demo_acme', purchases: ['25.00'], usage: [730, 45] },
  { installationId: 'icfg_demo_globex', purchases: ['10.50'], usage: [1200, 300] },
  { installationId: 'icfg_demo_initech', purchases: ['5.00', '2.99'], usage: [799] },
]

/**
 * @typedef {object} BalanceRow
 * @property {string} installationId
 * @property {number | null} ledgerCents The partner's ledger (the example's own API).
 * @property {number | null} vercelCents What Vercel's sandbox holds (newest report).
 * @property {boolean} match
 */

/**
 * @typedef {(line: string) => void} Log
 */

/**
 * Runs one example end to end against the Vercel double: install, buy (and a retried purchase),
 * use tokens (one refused with 402), restart, cron, then compare the partner's ledger with what
 * Vercel received. Throws with the example's output when a step answers unexpectedly.
 *
 * @param {'hono-app' | 'express-app'} app
 * @param {{ log: Log, workDir: string }} options
 * @returns {Promise<BalanceRow[]>}
 */
export async function runDemoScenario(app, { log, workDir }) {
  const vercel = await startVercelDouble()
  const cronSecret = randomBytes(24).toString('base64url')
  const env = {
    ...vercel.exampleEnv(),
    PORT: '0',
    HOST: '127.0.0.1',
    CRON_SECRET: cronSecret,
    BALANCES_ENCRYPTION_KEY: generateEncryptionKey(),
    BALANCES_DB: join(workDir, `${app}.db`),
  }
  /** @type {import('./example-process.mjs').ExampleProcess | undefined} */
  let example
  try {
    log(`▶ ${app}: starting it with the Vercel sandbox and test issuer standing in for Vercel`)
    example = await startExample(app, env)
    log(`  ✓ listening on ${example.url}`)
    const running = example
    const expect = expectation(() => running.output())
    let partner = partnerClient(example.url, cronSecret)

    for (const { installationId } of DEMO_CUSTOMERS) {
      expect(await vercel.install(example.url, installationId), 200, `install ${installationId}`)
      log(`  ✓ Vercel installed ${installationId} (Upsert Installation, signed OIDC token)`)
    }

    let invoiceNumber = 0
    for (const { installationId, purchases } of DEMO_CUSTOMERS) {
      for (const total of purchases) {
        const invoiceId = `inv_demo_${++invoiceNumber}`
        const bought = await vercel.buy(example.url, installationId, { invoiceId, total })
        expect(bought, 200, `purchase ${invoiceId}`)
        log(
          `  ✓ ${installationId} bought $${total} (${invoiceId}) → ${bought.body.balances[0].credit}`,
        )
      }
    }
    const retried = await vercel.provision(example.url, 'icfg_demo_acme', 'inv_demo_1')
    expect(retried, 200, 'retried purchase inv_demo_1')
    log(
      `  ✓ Vercel retried Provision Purchase for inv_demo_1 → credited once, still ${retried.body.balances[0].credit}`,
    )

    for (const { installationId, usage } of DEMO_CUSTOMERS) {
      for (const cents of usage) {
        const spent = await partner.spend(installationId, cents)
        if (spent.status === 402) {
          log(
            `  · ${installationId} tried to use ${cents} Tokens → 402, only ${spent.body.balanceCents} left`,
          )
          continue
        }
        expect(spent, 200, `use ${cents} tokens of ${installationId}`)
        log(
          `  ✓ ${installationId} used ${cents} Tokens → ${spent.body.balanceCents} left (hook reports it to Vercel)`,
        )
      }
    }

    const ids = DEMO_CUSTOMERS.map((customer) => customer.installationId)
    const before = await ledgerBalances(partner, ids)
    log(`  … restarting ${app} (SIGTERM, then start on the same SQLite file)`)
    const stopped = await example.stop()
    if (stopped.code !== 0) {
      throw new Error(`${app} exited with ${stopped.code ?? stopped.signal}:\n${example.output()}`)
    }
    example = await startExample(app, env)
    partner = partnerClient(example.url, cronSecret)
    const after = await ledgerBalances(partner, ids)
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      throw new Error(`the ledger changed across the restart: ${JSON.stringify({ before, after })}`)
    }
    log(`  ✓ back on ${example.url}; every balance survived the restart`)

    const cron = expect(await partner.reportBalances({ all: true }), 200, 'cron report')
    log(
      `  ✓ cron GET /balances/report?all=1 → ${cron.body.delivered} of ${cron.body.total} delivered`,
    )

    await waitUntilReported(partner, ids)
    const ledger = await ledgerBalances(partner, ids)
    return ids.map((installationId, i) => {
      const ledgerCents = ledger[i] ?? null
      const vercelCents = vercel.reportedCents(installationId)
      return {
        installationId,
        ledgerCents,
        vercelCents,
        match: ledgerCents !== null && ledgerCents === vercelCents,
      }
    })
  } finally {
    await example?.stop().catch(() => {})
    await vercel.close()
  }
}

/**
 * The partner ledger's balance of each installation (null when unknown), by its own API.
 *
 * @param {ReturnType<typeof partnerClient>} partner
 * @param {string[]} ids
 * @returns {Promise<Array<number | null>>}
 */
async function ledgerBalances(partner, ids) {
  const answers = await Promise.all(ids.map((id) => partner.balance(id)))
  return answers.map((answer) => (answer.status === 200 ? answer.body.balanceCents : null))
}

/**
 * Waits until the reporter has nothing pending or in flight for any installation (by the
 * operator status route), so the comparison reads settled values instead of racing a report.
 *
 * @param {ReturnType<typeof partnerClient>} partner
 * @param {string[]} ids
 */
async function waitUntilReported(partner, ids, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const statuses = await Promise.all(ids.map((id) => partner.status(id)))
    if (statuses.every((s) => s.status === 200 && !s.body.pending && !s.body.inFlight)) return
    if (Date.now() > deadline) {
      throw new Error(
        `reports still pending after ${timeoutMs} ms: ${JSON.stringify(statuses.map((s) => s.body))}`,
      )
    }
    await delay(50)
  }
}

/** @param {() => string} output the example's output, shown when a step fails */
function expectation(output) {
  /**
   * @param {import('./http-call.mjs').CallResult} response
   * @param {number} status
   * @param {string} what
   */
  return (response, status, what) => {
    if (response.status !== status) {
      throw new Error(
        `${what}: expected ${status}, got ${response.status} ${response.text}\n--- example output ---\n${output()}`,
      )
    }
    return response
  }
}
