// `pnpm demo`: runs the examples end to end against stand-ins for Vercel, offline, and checks
// that every balance Vercel received matches the partner's ledger. Exit code 0 when they do.
//
//   node examples/demo/run-demo.mjs [--framework hono|express|both]   (default both)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { formatBalanceTable } from './src/balance-table.mjs'
import { runDemoScenario } from './src/demo-scenario.mjs'

const APPS = /** @type {const} */ ({
  hono: ['hono-app'],
  express: ['express-app'],
  both: ['hono-app', 'express-app'],
})
const TIMEOUT_MS = 60_000

const { values } = parseArgs({ options: { framework: { type: 'string', default: 'both' } } })
const framework = /** @type {keyof typeof APPS} */ (values.framework)
if (!Object.hasOwn(APPS, framework)) {
  console.error(`demo: --framework must be hono, express or both (got "${framework}")`)
  process.exit(2)
}

const workDir = mkdtempSync(join(tmpdir(), 'prepaid-balances-demo-'))
let lastStep = 'starting'
/** @param {string} line */
const log = (line) => {
  lastStep = line.trim()
  console.log(line)
}

// Never hang: whatever is stuck, stop after TIMEOUT_MS (started examples are killed on exit).
const watchdog = setTimeout(() => {
  console.error(`\ndemo: gave up after ${TIMEOUT_MS / 1000} s; the last step was: ${lastStep}`)
  rmSync(workDir, { recursive: true, force: true })
  process.exit(1)
}, TIMEOUT_MS)

const started = Date.now()
let allMatch = true
try {
  for (const app of APPS[framework]) {
    const rows = await runDemoScenario(app, { log, workDir })
    console.log(formatBalanceTable(`${app}: balances after the run`, rows))
    console.log('')
    allMatch &&= rows.length > 0 && rows.every((row) => row.match)
  }
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`)
  allMatch = false
} finally {
  clearTimeout(watchdog)
  rmSync(workDir, { recursive: true, force: true })
}

const seconds = ((Date.now() - started) / 1000).toFixed(1)
if (allMatch) {
  console.log(`✓ Every balance at Vercel matches the partner's ledger (${seconds} s).`)
} else {
  console.error(`✗ Balances do not match, or a step failed (${seconds} s).`)
}
process.exit(allMatch ? 0 : 1)
