import { afterEach, describe, expect, it } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import { createReporterHarness, type ReporterHarness, submissionsFor } from './reporter-test-kit.js'

let h: ReporterHarness
afterEach(async () => {
  await h?.cleanup()
})

describe('createBalanceReporter: delivery and wire format', () => {
  it('sends { timestamp, balances } with the bearer token after notify, and nothing else', async () => {
    h = await createReporterHarness()
    await h.install('icfg_wire')
    h.ledger.add('icfg_wire', 1234)
    h.reporter.notify('icfg_wire')
    await h.reporter.flush()

    const latest = h.sandbox.latestBalances('icfg_wire')
    expect(latest?.balances).toEqual([
      { currencyValueInCents: 1234, credit: '1234 Tokens', nameLabel: 'Tokens' },
    ])
    const last = submissionsFor(h.sandbox, 'icfg_wire').at(-1)!
    expect(Object.keys(last.body as object).sort()).toEqual(['balances', 'timestamp'])
    expect((last.body as { balances: object[] }).balances[0]).not.toHaveProperty('resourceId')
    expect((last.body as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/)
    expect(last.status).toBe(201)
    const delivered = h.results.filter((r) => r.outcome === 'delivered')
    expect(delivered.at(-1)).toMatchObject({
      installationId: 'icfg_wire',
      attempts: 1,
      status: 201,
    })
    expect(delivered.at(-1)!.vercelRequestId).toBeTruthy()
  })

  it('coalesces 1,000 notify calls within 100 ms into at most 2 requests carrying the final balance', async () => {
    h = await createReporterHarness({ coalesceMs: 300 })
    await h.install('icfg_burst')
    await h.reporter.flush() // the first report after installation
    const before = submissionsFor(h.sandbox, 'icfg_burst').length
    // Let the event loop turn between slices (store writes happen), well inside the 300 ms window.
    for (let i = 0; i < 1000; i++) {
      h.ledger.add('icfg_burst', 1)
      h.reporter.notify('icfg_burst')
      if (i % 100 === 99) await new Promise((r) => setImmediate(r))
    }
    await h.reporter.flush()
    const sent = submissionsFor(h.sandbox, 'icfg_burst').length - before
    expect(sent).toBeGreaterThanOrEqual(1)
    expect(sent).toBeLessThanOrEqual(2)
    expect(h.sandbox.latestBalances('icfg_burst')?.balances[0]?.currencyValueInCents).toBe(1000)
  })

  it('never has two requests in flight for one installation, and the last one reads the latest change', async () => {
    h = await createReporterHarness({ coalesceMs: 0 })
    await h.install('icfg_serial')
    h.sandbox.injectFault({ installationId: 'icfg_serial', delayMs: 30, times: 50 })
    for (let i = 0; i < 30; i++) {
      h.ledger.add('icfg_serial', 10)
      h.reporter.notify('icfg_serial')
      await new Promise((r) => setTimeout(r, 3))
    }
    await h.reporter.flush()
    expect(h.sandbox.stats().maxInFlightPerInstallation).toBe(1)
    expect(h.sandbox.latestBalances('icfg_serial')?.balances[0]?.currencyValueInCents).toBe(300)
    expect(submissionsFor(h.sandbox, 'icfg_serial').length).toBeLessThan(30)
  })

  it('refuses invalid getBalances output without sending, naming the installation and field', async () => {
    h = await createReporterHarness({
      getBalances: async () => [{ currencyValueInCents: Number.NaN, extra: 1 } as never],
    })
    await h.install('icfg_bad')
    const result = await h.reporter.reportNow('icfg_bad')
    expect(result.outcome).toBe('invalid')
    expect(result.error?.code).toBe('ERR_INVALID_BALANCES')
    expect(result.error?.message).toContain('icfg_bad')
    expect(result.error?.message).toContain('balances[0].currencyValueInCents')
    expect(submissionsFor(h.sandbox, 'icfg_bad')).toHaveLength(0)
  })

  it('keeps timestamps increasing even when the wall clock is behind the last one sent', async () => {
    h = await createReporterHarness()
    await h.install('icfg_clock')
    const future = new Date(Date.now() + 3_600_000).toISOString()
    // As if another host with a fast clock had reported before this one.
    await h.reporter.store.write([
      { type: 'reportStarted', installationId: 'icfg_clock', timestamp: future, at: Date.now() },
    ])
    const first = await h.reporter.reportNow('icfg_clock')
    const second = await h.reporter.reportNow('icfg_clock')
    expect(Date.parse(first.timestamp!)).toBeGreaterThan(Date.parse(future))
    expect(Date.parse(second.timestamp!)).toBeGreaterThan(Date.parse(first.timestamp!))
    expect(h.sandbox.stats().timestampRegressions).toBe(0)
  })
})

describe('createBalanceReporter: outcomes', () => {
  it('retries 503 and delivers, counting attempts', async () => {
    h = await createReporterHarness()
    await h.install('icfg_retry')
    h.sandbox.injectFault({ installationId: 'icfg_retry', status: 503, times: 2 })
    const result = await h.reporter.reportNow('icfg_retry')
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 3 })
  })

  it('marks a refused (403) token rejected until saveInstallation replaces it', async () => {
    h = await createReporterHarness()
    await h.install('icfg_401', 'tok_right')
    h.sandbox.addInstallation('icfg_401', { accessToken: 'tok_other' })
    const rejected = await h.reporter.reportNow('icfg_401')
    expect(rejected).toMatchObject({ outcome: 'rejected', attempts: 1, status: 403 })
    expect((await h.reporter.getStatus('icfg_401'))?.tokenState).toBe('rejected')
    const skipped = await h.reporter.reportNow('icfg_401')
    expect(skipped.outcome).toBe('skipped')
    await h.reporter.saveInstallation('icfg_401', { accessToken: 'tok_other' })
    expect((await h.reporter.getStatus('icfg_401'))?.tokenState).toBe('active')
    expect((await h.reporter.reportNow('icfg_401')).outcome).toBe('delivered')
  })

  it('marks an installation gone on 404 and stops reporting it', async () => {
    h = await createReporterHarness()
    await h.install('icfg_404')
    h.sandbox.removeInstallation('icfg_404', { status: 404 })
    expect((await h.reporter.reportNow('icfg_404')).outcome).toBe('gone')
    expect((await h.reporter.getStatus('icfg_404'))?.tokenState).toBe('gone')
    const summary = await h.reporter.reportAll()
    expect(summary.total).toBe(0)
  })

  it('reportAll reports every installation with bounded concurrency and returns counts', async () => {
    h = await createReporterHarness({ concurrency: 4 })
    for (let i = 0; i < 60; i++) await h.install(`icfg_all_${i}`)
    h.sandbox.injectFault({ delayMs: 5, times: 1000 })
    const summary = await h.reporter.reportAll()
    expect(summary).toMatchObject({ total: 60, delivered: 60, failed: 0 })
    expect(h.sandbox.stats().maxInFlight).toBeLessThanOrEqual(4)
  })

  it('deleteInstallation forgets the token and stops reports', async () => {
    h = await createReporterHarness()
    await h.install('icfg_del')
    expect(await h.reporter.deleteInstallation('icfg_del')).toBe(true)
    expect(await h.reporter.getStatus('icfg_del')).toBeNull()
    expect((await h.reporter.reportNow('icfg_del')).outcome).toBe('skipped')
  })
})

describe('createBalanceReporter: input and secrets', () => {
  it('validates options once with errors that name the option', async () => {
    h = await createReporterHarness()
    const { createBalanceReporter } = await import('./create-balance-reporter.js')
    const attempt = (opts: object) => {
      try {
        createBalanceReporter(opts as never)
      } catch (error) {
        return error
      }
      return null
    }
    const e1 = attempt({ store: h.reporter.store, getBalances: 'nope' })
    expect(isPrepaidBalancesError(e1, 'ERR_INVALID_OPTIONS')).toBe(true)
    expect((e1 as Error).message).toContain('getBalances')
    const e2 = attempt({ store: h.reporter.store, getBalances: () => [], coalesceMs: -1 })
    expect((e2 as Error).message).toContain('coalesceMs')
    const e3 = attempt({ store: {}, getBalances: () => [] })
    expect((e3 as Error).message).toContain('store')
  })

  it('rejects bad installation ids and credentials without storing anything', async () => {
    h = await createReporterHarness()
    await expect(h.reporter.saveInstallation('../etc', { accessToken: 'x' })).rejects.toMatchObject(
      {
        code: 'ERR_INVALID_INSTALLATION_ID',
      },
    )
    await expect(h.reporter.saveInstallation('icfg_ok', { accessToken: '' })).rejects.toMatchObject(
      { code: 'ERR_INVALID_CREDENTIALS' },
    )
    expect(await h.reporter.getStatus('icfg_ok')).toBeNull()
    expect(() => h.reporter.notify('../../x')).not.toThrow()
    expect(() => h.reporter.notify(undefined as never)).not.toThrow()
  })

  it('never puts the token in events, status or logs', async () => {
    const logs: string[] = []
    const capture = (message: string, fields?: object) =>
      logs.push(message + JSON.stringify(fields))
    h = await createReporterHarness({
      logger: { debug: capture, info: capture, warn: capture, error: capture },
    })
    const token = 'tok_super_secret_value_123'
    await h.install('icfg_secret', token)
    h.sandbox.injectFault({ installationId: 'icfg_secret', status: 500, times: 2 })
    await h.reporter.reportNow('icfg_secret')
    h.sandbox.addInstallation('icfg_secret', { accessToken: 'changed' })
    await h.reporter.reportNow('icfg_secret')
    const status = await h.reporter.getStatus('icfg_secret')
    const everything = JSON.stringify({ logs, results: h.results, status })
    expect(logs.length).toBeGreaterThan(0)
    expect(everything).not.toContain(token)
  })
})
