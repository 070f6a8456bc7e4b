// Item 3 of the reliability issue: a partner process running the reporter over SQLite is killed
// with SIGKILL at random moments, again and again, while it credits its ledger and reports (so
// kills land mid-request and mid-write). After each kill a new reporter over the same files must
// deliver every change the dead process had accepted.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { startChild } from './support/child-process.js'
import {
  createBalanceReporter,
  createVercelSandbox,
  generateEncryptionKey,
  openRawDatabase,
  silentLogger,
  sqliteStore,
} from './support/packages.js'
import { publishResults } from './support/results.js'
import { seededRandom, seedFrom } from './support/seeded.js'
import { waitFor } from './support/wait.js'

const RUNS = 20
/** How long a dead process's claim on an installation holds up its successor (see leaseMs). */
const LEASE_MS = 400
const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url))
const seed = seedFrom('CRASH_SEED')
const dir = mkdtempSync(join(tmpdir(), 'reliability-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

it(`delivers every accepted change after ${RUNS} SIGKILLs (seed ${seed})`, {
  timeout: 120_000,
}, async () => {
  const started = Date.now()
  const random = seededRandom(seed)
  // Enough installations that most changes start a fresh pending mark rather than join one.
  const ids = Array.from({ length: 40 }, (_, i) => `icfg_crash_${i}`)
  const files = { DB: join(dir, 'balances.db'), LEDGER_DB: join(dir, 'ledger.db') }
  const key = generateEncryptionKey()
  const sandbox = await createVercelSandbox()
  const ledger = openRawDatabase(files.LEDGER_DB)
  ledger.pragma('journal_mode = WAL')
  ledger.exec('CREATE TABLE IF NOT EXISTS ledger (id TEXT PRIMARY KEY, cents INTEGER NOT NULL)')
  const readLedger = (id: string) =>
    (
      ledger.prepare('SELECT cents FROM ledger WHERE id = ?').get(id) as
        | { cents: number }
        | undefined
    )?.cents ?? 0
  const restart = () =>
    createBalanceReporter({
      store: sqliteStore({ filename: files.DB, encryptionKey: key }),
      getBalances: (id) => [{ currencyValueInCents: readLedger(id), nameLabel: 'Tokens' }],
      apiUrl: sandbox.url,
      coalesceMs: 5,
      reportIntervalMs: 60_000,
      retry: { maxAttempts: 10, initialDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
      logger: silentLogger,
      leaseMs: LEASE_MS,
    })
  const lastAccepted = new Map<string, number>()
  const runs: Array<{ accepted: number; inFlightAtKill: number }> = []
  try {
    const setup = restart()
    for (const id of ids) {
      sandbox.addInstallation(id, { accessToken: `tok_${id}` })
      await setup.saveInstallation(id, { accessToken: `tok_${id}` })
    }
    await setup.close()

    for (let run = 0; run < RUNS; run++) {
      // Keep requests in flight: either every one is held a little and Vercel even applies a
      // request whose sender died (the answer is lost, the change was delivered), or a random half
      // is slowed down, refused or cut.
      if (Math.floor(run / 2) % 2 === 0) {
        sandbox.injectFault({
          delayMs: 40,
          applyAfterDisconnect: true,
          times: Number.POSITIVE_INFINITY,
        })
      } else {
        sandbox.setRandomFaults({
          rate: 0.5,
          seed: seed + run,
          kinds: ['delay', 'delay', 503, 'reset'],
          delayMs: 40,
        })
      }
      const child = startChild(CHILD, {
        ...files,
        KEY: key,
        API_URL: sandbox.url,
        IDS: ids.join(','),
        SEED: String(seed + run),
        LEASE_MS: String(LEASE_MS),
      })
      await child.printed('accepted ')
      // Every other run is killed the moment a request is in flight; the others at a random moment
      // of the change loop (ledger commits and store commits back to back).
      const killAfterMs = Math.floor(random() * 250)
      if (run % 2 === 0)
        await waitFor('a request in flight', () => sandbox.inFlight() > 0, 5_000, 1)
      else await new Promise((resolve) => setTimeout(resolve, killAfterMs))
      const inFlightAtKill = sandbox.inFlight()
      child.proc.kill('SIGKILL')
      const { signal } = await child.exited
      expect(signal, child.stderr()).toBe('SIGKILL')
      const accepted = child.lines.filter((line) => line.startsWith('accepted '))
      for (const line of accepted) {
        const [, id, cents] = line.split(' ')
        lastAccepted.set(id!, Math.max(lastAccepted.get(id!) ?? 0, Number(cents)))
      }
      runs.push({ accepted: accepted.length, inFlightAtKill })

      // Requests the dead process left at Vercel finish first; then the restart, with faults on.
      sandbox.clearFaults()
      await sandbox.settled()
      sandbox.setRandomFaults({ rate: 0.3, seed: seed - run, kinds: [503, 'reset', 429] })
      const recovered = restart()
      await waitFor(
        `run ${run}: every accepted change at Vercel`,
        () =>
          ids.every(
            (id) =>
              (sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents ?? 0) >=
              (lastAccepted.get(id) ?? 0),
          ),
        20_000,
        5,
      )
      await recovered.flush()
      await recovered.close()
      sandbox.clearFaults()
      await sandbox.settled()
    }

    for (const id of ids) {
      const atVercel = sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents ?? 0
      expect(atVercel, id).toBeGreaterThanOrEqual(lastAccepted.get(id) ?? 0)
      expect(atVercel, id).toBeLessThanOrEqual(readLedger(id))
    }
    expect(sandbox.stats().timestampRegressions).toBe(0)
    const midRequest = runs.filter((r) => r.inFlightAtKill > 0).length
    // The kills must actually have hit a process at work: changes accepted, requests in flight.
    expect(runs.every((r) => r.accepted > 0)).toBe(true)
    expect(midRequest).toBeGreaterThanOrEqual(RUNS / 2)
    publishResults('crash', {
      seed,
      runs: RUNS,
      killedMidRequest: midRequest,
      changesAccepted: runs.reduce((sum, r) => sum + r.accepted, 0),
      changesLost: ids.filter(
        (id) =>
          (sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents ?? 0) <
          (lastAccepted.get(id) ?? 0),
      ).length,
      requests: sandbox.stats().requests,
      faultsInjected: sandbox.stats().faultsInjected,
      timestampRegressions: sandbox.stats().timestampRegressions,
      durationMs: Date.now() - started,
    })
  } finally {
    ledger.close()
    await sandbox.close()
  }
})
