// Item 1, continued: "slow down" answers (429 with Retry-After in seconds, as an HTTP date, and
// retry-after-ms) and a server that is not there at all (connection refused).
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createVercelSandbox, type VercelSandbox } from './support/packages.js'
import {
  createReporterKit,
  gapsMs,
  type ReporterKit,
  retryNotices,
} from './support/reporter-kit.js'
import { waitFor } from './support/wait.js'

const RETRY = { maxAttempts: 3, initialDelayMs: 40, maxDelayMs: 80, maxRetryAfterMs: 3_000 }
const EARLY_MS = 2
const LATE_MS = 400

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function kitWith(overrides: Parameters<typeof createReporterKit>[0] = {}) {
  const kit = await createReporterKit({ retry: RETRY, timeoutMs: 2_000, ...overrides })
  cleanups.push(() => kit.close())
  return kit
}

/** Reports `id` once with `fault` on its first attempt; returns the gap to the second attempt. */
async function gapAfter(
  kit: ReporterKit,
  id: string,
  fault: Parameters<ReporterKit['sandbox']['injectFault']>[0],
) {
  await kit.install(id)
  kit.ledger.add(id, 321)
  kit.sandbox.injectFault({ ...fault, installationId: id })
  const result = await kit.reporter.reportNow(id)
  expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 })
  expect(kit.sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents).toBe(321)
  const requests = kit.submissions(id)
  return { gap: gapsMs(requests)[0]!, requests, notice: retryNotices(kit.logs, id)[0]! }
}

describe('the server decides how long to wait', () => {
  it('429 with Retry-After in seconds', async () => {
    const kit = await kitWith()
    const { gap, notice } = await gapAfter(kit, 'icfg_ra_seconds', { status: 429, retryAfter: 1 })
    expect(notice).toMatchObject({ reason: 'http_429', delayMs: 1_000 })
    expect(gap).toBeGreaterThanOrEqual(1_000 - EARLY_MS)
    expect(gap).toBeLessThanOrEqual(1_000 + LATE_MS)
  })

  it('429 with Retry-After as an HTTP date', async () => {
    const kit = await kitWith()
    // HTTP dates have whole seconds: pick one between 1 and 2 s from now.
    const retryAt = Math.ceil((Date.now() + 1_000) / 1_000) * 1_000
    const { requests } = await gapAfter(kit, 'icfg_ra_date', {
      status: 429,
      retryAfter: new Date(retryAt).toUTCString(),
    })
    const second = requests[1]!.receivedAt.getTime()
    expect(second).toBeGreaterThanOrEqual(retryAt - EARLY_MS)
    expect(second).toBeLessThanOrEqual(retryAt + LATE_MS)
  })

  it('429 with retry-after-ms', async () => {
    const kit = await kitWith()
    const { gap, notice } = await gapAfter(kit, 'icfg_ra_ms', { status: 429, retryAfterMs: 400 })
    expect(notice.delayMs).toBe(400)
    expect(gap).toBeGreaterThanOrEqual(400 - EARLY_MS)
    expect(gap).toBeLessThanOrEqual(400 + LATE_MS)
  })

  it('retry-after-ms wins over Retry-After', async () => {
    const kit = await kitWith()
    const { gap } = await gapAfter(kit, 'icfg_ra_both', {
      status: 429,
      retryAfter: 60,
      retryAfterMs: 250,
    })
    expect(gap).toBeGreaterThanOrEqual(250 - EARLY_MS)
    expect(gap).toBeLessThanOrEqual(250 + LATE_MS)
  })

  it('503 with Retry-After is honoured too', async () => {
    const kit = await kitWith()
    const { gap } = await gapAfter(kit, 'icfg_ra_503', { status: 503, retryAfter: 1 })
    expect(gap).toBeGreaterThanOrEqual(1_000 - EARLY_MS)
    expect(gap).toBeLessThanOrEqual(1_000 + LATE_MS)
  })

  it('a 429 slows down every installation of the client, not just the one refused', async () => {
    const kit = await kitWith()
    await kit.install('icfg_slow_a')
    await kit.install('icfg_slow_b')
    kit.sandbox.injectFault({ installationId: 'icfg_slow_a', status: 429, retryAfterMs: 500 })
    const first = kit.reporter.reportNow('icfg_slow_a')
    await waitFor(
      'the 429 to be seen',
      () => retryNotices(kit.logs, 'icfg_slow_a').length > 0,
      5_000,
    )
    await kit.reporter.reportNow('icfg_slow_b')
    await first
    const refusedAt = kit.submissions('icfg_slow_a')[0]!.receivedAt.getTime()
    const otherAt = kit.submissions('icfg_slow_b')[0]!.receivedAt.getTime()
    expect(otherAt - refusedAt).toBeGreaterThanOrEqual(500 - EARLY_MS)
  })

  it('a wait longer than maxRetryAfterMs ends the report as failed, still pending', async () => {
    const kit = await kitWith()
    const id = 'icfg_ra_too_long'
    await kit.install(id)
    kit.sandbox.injectFault({ installationId: id, status: 429, retryAfter: 3_600 })
    const started = Date.now()
    const result = await kit.reporter.reportNow(id)
    expect(Date.now() - started).toBeLessThan(LATE_MS + 500)
    expect(result).toMatchObject({ outcome: 'failed', attempts: 1, status: 429 })
    expect(result.error?.code).toBe('retry_after_too_long')
    expect(kit.submissions(id)).toHaveLength(1)
    expect(await kit.reporter.getStatus(id)).toMatchObject({ tokenState: 'active', pending: true })
  })
})

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('connection refused', () => {
  it('is retried with backoff, fails after maxAttempts, and the change waits for the server', async () => {
    const port = await closedPort()
    const kit = await kitWith({ apiUrl: `http://127.0.0.1:${port}` })
    const id = 'icfg_refused_port'
    const token = await kit.install(id)
    kit.ledger.add(id, 4_000)

    const failed = await kit.reporter.reportNow(id)

    expect(failed).toMatchObject({ outcome: 'failed', attempts: RETRY.maxAttempts, status: null })
    expect(failed.error?.code).toBe('connection_error')
    const notices = retryNotices(kit.logs, id)
    expect(notices.map((n) => n.reason)).toEqual([
      'connection_error (ECONNREFUSED)',
      'connection_error (ECONNREFUSED)',
    ])
    const minWait = RETRY.initialDelayMs / 2 + RETRY.maxDelayMs / 2
    expect(failed.durationMs).toBeGreaterThanOrEqual(minWait - EARLY_MS)
    expect(failed.durationMs).toBeLessThanOrEqual(RETRY.initialDelayMs + RETRY.maxDelayMs + LATE_MS)
    expect(await kit.reporter.getStatus(id)).toMatchObject({ tokenState: 'active', pending: true })

    // Vercel comes back on that port: the kept change is delivered by the next report.
    const vercel = await createVercelSandbox({ port, installations: { [id]: token } })
    cleanups.push(() => vercel.close())
    expect(await kit.reporter.reportNow(id)).toMatchObject({ outcome: 'delivered', attempts: 1 })
    expect(vercel.latestBalances(id)?.balances[0]?.currencyValueInCents).toBe(4_000)
  })

  it('a server that comes up between attempts gets the report', async () => {
    const port = await closedPort()
    const kit = await kitWith({
      apiUrl: `http://127.0.0.1:${port}`,
      retry: { ...RETRY, maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 200 },
    })
    const id = 'icfg_refused_then_up'
    const token = await kit.install(id)
    kit.ledger.add(id, 77)
    let vercel: VercelSandbox | undefined
    const report = kit.reporter.reportNow(id)
    await waitFor('a refused attempt', () => retryNotices(kit.logs, id).length > 0, 5_000, 2)
    vercel = await createVercelSandbox({ port, installations: { [id]: token } })
    cleanups.push(() => vercel!.close())

    const result = await report
    expect(result.outcome).toBe('delivered')
    expect(result.attempts).toBeGreaterThanOrEqual(2)
    expect(vercel.latestBalances(id)?.balances[0]?.currencyValueInCents).toBe(77)
  })
})
