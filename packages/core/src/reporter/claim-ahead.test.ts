import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { silentLogger } from '../logger.js'
import { type MemoryRow, memoryStoreOver } from '../store/memory-store.js'
import type { BalanceStore, StoreWrite } from '../store/store-types.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/index.js'
import { createBalanceReporter } from './create-balance-reporter.js'
import { waitUntil } from './multi-replica-suite.js'
import type { BalanceReporter } from './reporter-types.js'
import { RESERVATION_FRESH_MS } from './send-report.js'

// reportAll() claims its reports' leases a chunk at a time (LeaseCoordinator.claimAhead); these
// check that the leases so taken end up used or freed. Concurrency 2 makes chunks of 8.
let sandbox: VercelSandbox
let reporter: BalanceReporter
afterEach(async () => {
  await reporter?.close()
  await sandbox?.close()
})

const cents = new Map<string, number>()
const ids = Array.from({ length: 30 }, (_, i) => `icfg_ahead_${String(i).padStart(2, '0')}`)
/** Called by getBalances, for tests that act at the moment a balance is read. */
let onRead: (id: string) => void = () => {}

/**
 * A reporter over shared memory rows, `other`: another replica's handle on them, and `writes`:
 * every write the reporter's store received, in order.
 */
async function setUp({ leaseMs = 2000 } = {}): Promise<{
  other: BalanceStore
  rows: Map<string, MemoryRow>
  writes: StoreWrite[]
}> {
  sandbox = await createVercelSandbox()
  cents.clear()
  onRead = () => {}
  const rows = new Map<string, MemoryRow>()
  const encryptionKey = generateEncryptionKey()
  const store = memoryStoreOver(rows, { encryptionKey })
  const writes: StoreWrite[] = []
  const write = store.write.bind(store)
  store.write = (batch) => {
    writes.push(...batch)
    return write(batch)
  }
  reporter = createBalanceReporter({
    store,
    getBalances: (id) => {
      onRead(id)
      return [{ currencyValueInCents: cents.get(id) ?? 1 }]
    },
    apiUrl: sandbox.url,
    concurrency: 2,
    autoStart: false,
    leaseMs,
    retry: { maxAttempts: 1 },
    logger: silentLogger,
  })
  for (const id of ids) {
    sandbox.addInstallation(id, { accessToken: `tok_${id}` })
    await reporter.saveInstallation(id, { accessToken: `tok_${id}` })
  }
  await reporter.flush()
  return { other: memoryStoreOver(rows, { encryptionKey }), rows, writes }
}

const sentTimestamp = (id: string) => sandbox.latestBalances(id)?.timestamp
const storedTimestamp = async (id: string) =>
  (await reporter.store.getInstallation(id))?.lastTimestamp

/** Whether another replica can claim each installation right now (no lease left behind). */
async function claimableByAnother(store: BalanceStore, which: readonly string[]) {
  const claims = await store.leases!.claimMany(
    which.map((installationId) => ({ installationId, token: 'another' })),
    { leaseMs: 1000 },
  )
  return claims.map((claim) => claim.status)
}

describe('reportAll claims leases ahead, a chunk at a time', () => {
  it('reports every installation once and leaves no lease behind', async () => {
    const { other } = await setUp()
    const before = sandbox.requests.length
    const summary = await reporter.reportAll()
    expect(summary).toMatchObject({ total: ids.length, delivered: ids.length })
    expect(sandbox.requests.length - before).toBe(ids.length)
    expect(await claimableByAnother(other, ids)).toEqual(ids.map(() => 'claimed'))
  })

  it('sends the timestamp each claim reserved, without a reportStarted write; the next run goes past it', async () => {
    const { writes } = await setUp()
    // Stored by a replica whose clock runs an hour ahead: the reservation goes past it too.
    const ahead = new Date(Date.now() + 3_600_000).toISOString()
    const at = Date.now()
    await reporter.store.write([
      { type: 'reportStarted', installationId: ids[5]!, timestamp: ahead, at },
    ])
    writes.length = 0
    expect(await reporter.reportAll()).toMatchObject({ delivered: ids.length })
    expect(writes.filter((write) => write.type === 'reportStarted')).toEqual([])
    const first = ids.map(sentTimestamp)
    expect(await Promise.all(ids.map(storedTimestamp))).toEqual(first)
    expect(first[5]).toBe(new Date(Date.parse(ahead) + 1).toISOString())
    await reporter.reportAll()
    const second = ids.map(sentTimestamp)
    for (const [i, timestamp] of second.entries()) {
      expect(Date.parse(timestamp!)).toBeGreaterThan(Date.parse(first[i]!))
    }
  })

  it('takes and stores a fresh timestamp for a report whose reservation aged past RESERVATION_FRESH_MS', async () => {
    // A long lease: the clock jump below must not look like an expired one.
    const { writes } = await setUp({ leaseMs: 60_000 })
    writes.length = 0
    const realNow = Date.now.bind(Date)
    let skew = 0
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew)
    let jumpedAt = 0
    // While the first report reads, time runs past the reservations of the first two chunks
    // (claimed already); later chunks are claimed after it and reserve afresh.
    onRead = (id) => {
      if (id !== ids[0]) return
      skew = RESERVATION_FRESH_MS + 5000
      jumpedAt = Date.now()
    }
    try {
      expect(await reporter.reportAll()).toMatchObject({ delivered: ids.length })
    } finally {
      clock.mockRestore()
    }
    const started = writes.filter((write) => write.type === 'reportStarted')
    const restarted = started.map((write) => write.installationId)
    expect(restarted.length).toBeGreaterThan(0)
    expect(restarted.length).toBeLessThan(ids.length - 1)
    expect(restarted).not.toContain(ids[0]) // it took its timestamp before the jump
    for (const id of restarted)
      expect(Date.parse(sentTimestamp(id)!)).toBeGreaterThanOrEqual(jumpedAt)
    // Sent or reserved, each timestamp was stored before its request.
    expect(await Promise.all(ids.map(storedTimestamp))).toEqual(ids.map(sentTimestamp))
  })

  it('claims across reportAll pages (1,000 ids each): every installation reported once, no lease left', async () => {
    const { other } = await setUp()
    // Enough installations for two pages: the second page's chunks are claimed ahead from the
    // first page's last ones.
    const many = Array.from({ length: 1100 }, (_, i) => `icfg_page_${String(i).padStart(4, '0')}`)
    for (const id of many) sandbox.addInstallation(id, { accessToken: `tok_${id}` })
    const at = Date.now()
    for (const id of many)
      await reporter.store.saveCredentials(id, { accessToken: `tok_${id}` }, at)
    const before = sandbox.requests.length
    const summary = await reporter.reportAll()
    const all = [...ids, ...many]
    expect(summary).toMatchObject({ total: all.length, delivered: all.length })
    expect(sandbox.requests.length - before).toBe(all.length)
    expect(await claimableByAnother(other, all)).toEqual(all.map(() => 'claimed'))
  })

  it('leaves an installation another replica holds to the retrying per-report claim', async () => {
    const { other } = await setUp()
    const held = await other.leases!.claim(ids[3]!, { token: 'another', leaseMs: 300 })
    expect(held.status).toBe('claimed')
    const summary = await reporter.reportAll()
    expect(summary).toMatchObject({ total: ids.length, delivered: ids.length })
  })

  it('frees the leases claimed ahead when the reporter closes mid-run', async () => {
    const { other } = await setUp()
    sandbox.injectFault({ delayMs: 200, times: 1000 })
    const running = reporter.reportAll()
    await waitUntil(() => sandbox.stats().inFlight > 0, 5000, 'the first reports')
    await reporter.close()
    const summary = await running
    expect(summary.skipped).toBeGreaterThan(0) // reports that never started
    expect(await claimableByAnother(other, ids)).toEqual(ids.map(() => 'claimed'))
  })

  it('skips an installation deleted after its lease was claimed ahead; no lease left behind', async () => {
    const { other } = await setUp()
    sandbox.injectFault({ delayMs: 100, times: 1000 })
    const running = reporter.reportAll()
    await waitUntil(() => sandbox.stats().inFlight > 0, 5000, 'the first reports')
    await reporter.deleteInstallation(ids[6]!) // in the first chunk, claimed by now
    const summary = await running
    expect(summary).toMatchObject({ delivered: ids.length - 1, skipped: 1 })
    await reporter.saveInstallation(ids[6]!, { accessToken: 'tok_again' })
    await reporter.persisted()
    expect(await claimableByAnother(other, ids)).toEqual(ids.map(() => 'claimed'))
  })

  it('delivers a change notified during the run, after its lease was claimed ahead', async () => {
    await setUp()
    sandbox.injectFault({ delayMs: 100, times: 1000 })
    const running = reporter.reportAll()
    await waitUntil(() => sandbox.stats().inFlight > 0, 5000, 'the first reports')
    const id = ids[12]! // second chunk: claimed ahead by now
    cents.set(id, 42)
    reporter.notify(id)
    await running
    await reporter.flush()
    expect(sandbox.latestBalances(id)?.balances[0]?.currencyValueInCents).toBe(42)
    // Its report claimed afresh, after the change's mark: so its finish cleared that mark.
    expect((await reporter.store.getInstallation(id))?.pending).toBe(false)
  })

  it('sends a token saved during the run, not the one read by the claim ahead', async () => {
    await setUp()
    sandbox.injectFault({ delayMs: 100, times: 1000 })
    const running = reporter.reportAll()
    await waitUntil(() => sandbox.stats().inFlight > 0, 5000, 'the first reports')
    // In the second chunk: claimed ahead (with the old token) while the first chunk reports.
    const id = ids[10]!
    sandbox.addInstallation(id, { accessToken: 'tok_new' })
    await reporter.saveInstallation(id, { accessToken: 'tok_new' })
    const summary = await running
    expect(summary).toMatchObject({ delivered: ids.length, rejected: 0 })
    expect(sandbox.stats().byStatus['401']).toBeUndefined()
  })
})
