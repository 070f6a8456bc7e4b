import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createReporterHarness, type ReporterHarness, submissionsFor } from './reporter-test-kit.js'

const child = fileURLToPath(new URL('./fixtures/crashing-reporter.mjs', import.meta.url))

function runChild(env: Record<string, string>) {
  const proc = spawn(process.execPath, [child], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  proc.stderr.on('data', (d) => {
    stderr += d
  })
  const accepted = new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d) => String(d).includes('accepted') && resolve())
    proc.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)))
  })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return { proc, accepted, exited }
}

async function waitUntil(check: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

let h: ReporterHarness
afterEach(async () => {
  await h?.cleanup()
})

describe('nothing lost across a crash', () => {
  it('reports changes accepted before SIGKILL once the reporter restarts', async () => {
    h = await createReporterHarness({ autoStart: true })
    const ids = ['icfg_crash_a', 'icfg_crash_b', 'icfg_crash_c']
    for (const id of ids) await h.install(id)
    await h.reporter.flush()
    await h.reporter.close()
    const sentBefore = h.sandbox.requests.length

    const { proc, accepted, exited } = runChild({
      DB: h.dbFile,
      KEY: h.encryptionKey,
      API_URL: h.sandbox.url,
      IDS: ids.join(','),
      CENTS: '777',
    })
    await accepted
    proc.kill('SIGKILL')
    await exited
    expect(h.sandbox.requests.length).toBe(sentBefore) // the child sent nothing: coalesceMs was 60 s

    // The child had written these balances to the partner's ledger before it was killed.
    for (const id of ids) h.ledger.add(id, 777)
    const restarted = h.start()
    await waitUntil(
      () =>
        ids.every((id) => h.sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents === 777),
      10_000,
    )
    await restarted.flush()
    for (const id of ids) expect((await restarted.getStatus(id))?.pending).toBe(false)
  })

  it('does not keep the host process alive with its timers', async () => {
    h = await createReporterHarness()
    await h.install('icfg_exit')
    const { accepted, exited } = runChild({
      DB: h.dbFile,
      KEY: h.encryptionKey,
      API_URL: h.sandbox.url,
      IDS: 'icfg_exit',
      MODE: 'exit-without-close',
    })
    await accepted
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('still running'), 8000)),
    ])
    expect(code).toBe(0)
  })

  it('reports every installation at least once per reportIntervalMs on its own', async () => {
    h = await createReporterHarness({ reportIntervalMs: 2000, coalesceMs: 10 })
    const ids = Array.from({ length: 20 }, (_, i) => `icfg_sched_${i}`)
    for (const id of ids) await h.install(id)
    await h.reporter.flush()
    // Counted, not timed: a first report can land in the same millisecond as Date.now() here.
    const sentBefore = new Map(ids.map((id) => [id, submissionsFor(h.sandbox, id).length]))
    // 2 s interval plus slack for a loaded CI machine; a missing sweep would leave ids unreported.
    await new Promise((r) => setTimeout(r, 2600))
    for (const id of ids) {
      const recent = submissionsFor(h.sandbox, id).slice(sentBefore.get(id))
      expect(recent.length, id).toBeGreaterThanOrEqual(1)
      expect(recent.length, id).toBeLessThanOrEqual(3)
    }
  })
})
