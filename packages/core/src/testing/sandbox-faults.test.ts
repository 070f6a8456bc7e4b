import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isPrepaidBalancesError } from '../errors.js'
import { vercelErrorBodySchema } from '../wire/vercel-error-schema.js'
import { submit, validBody } from './sandbox-client.test-helper.js'
import { FaultPlan } from './sandbox-faults.js'
import { createVercelSandbox, type VercelSandbox } from './sandbox-server.js'

let sandbox: VercelSandbox

beforeEach(async () => {
  sandbox = await createVercelSandbox({ installations: { icfg_a: 'token-a', icfg_b: 'token-b' } })
})
afterEach(() => sandbox.close())

const errorBody = (text: string) => vercelErrorBodySchema.parse(JSON.parse(text)).error

describe('injected faults', () => {
  it('answers 429 rate_limited with Retry-After and a limit, once, then recovers', async () => {
    const before = Date.now()
    sandbox.injectFault({ installationId: 'icfg_a', status: 429, retryAfter: 7 })
    const limited = await submit(sandbox, 'icfg_a')
    expect(limited.status).toBe(429)
    expect(limited.headers['retry-after']).toBe('7')
    const error = errorBody(limited.text)
    expect(error.code).toBe('rate_limited')
    expect(error.limit).toMatchObject({ remaining: 0, total: expect.any(Number) })
    expect(error.limit?.resetMs).toBeGreaterThanOrEqual(before + 7000)
    expect(error.limit?.reset).toBe(Math.ceil((error.limit?.resetMs ?? 0) / 1000))
    expect(sandbox.latestBalances('icfg_a')).toBeUndefined()
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
    expect(sandbox.requests.map((r) => r.fault)).toEqual(['status 429', null])
  })

  it('sends an HTTP-date Retry-After and retry-after-ms as given', async () => {
    const date = new Date(Date.now() + 5000).toUTCString()
    sandbox.injectFault({ retryAfter: date })
    sandbox.injectFault({ status: 503, retryAfterMs: 250 })
    const first = await submit(sandbox, 'icfg_a')
    const second = await submit(sandbox, 'icfg_a')
    expect([first.status, first.headers['retry-after']]).toEqual([429, date])
    expect([second.status, second.headers['retry-after-ms']]).toEqual([503, '250'])
    expect(errorBody(second.text).code).toBe('internal_server_error')
  })

  it('hits only matching requests, in FIFO order, as many times as asked', async () => {
    sandbox.injectFault({ installationId: 'icfg_b', status: 502, times: 2 })
    sandbox.injectFault({ status: 500 })
    const statuses = [
      (await submit(sandbox, 'icfg_a')).status,
      (await submit(sandbox, 'icfg_b', validBody(), { token: 'token-b' })).status,
      (await submit(sandbox, 'icfg_b', validBody(), { token: 'token-b' })).status,
      (await submit(sandbox, 'icfg_a')).status,
    ]
    expect(statuses).toEqual([500, 502, 502, 201])
    expect(sandbox.stats()).toMatchObject({
      faultsInjected: 3,
      byStatus: { 201: 1, 500: 1, 502: 2 },
    })
  })

  it('resets the connection so the client sees a socket error', async () => {
    sandbox.injectFault({ reset: true })
    const failure = await submit(sandbox, 'icfg_a').then(
      () => null,
      (error: unknown) => error,
    )
    expect(failure).toBeInstanceOf(Error)
    expect(String((failure as Error & { code?: string }).code)).toMatch(/ECONNRESET|UND_ERR_SOCKET/)
    await sandbox.settled()
    expect(sandbox.requests[0]).toMatchObject({ outcome: 'reset', status: null })
    expect(sandbox.stats().resets).toBe(1)
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
  })

  it('delays the answer; a client that times out is dropped unapplied', async () => {
    sandbox.injectFault({ delayMs: 60_000 })
    await expect(submit(sandbox, 'icfg_a', validBody(), { timeoutMs: 50 })).rejects.toThrow()
    await vi.waitFor(() => expect(sandbox.requests[0]?.outcome).toBe('client-closed'), {
      timeout: 5000,
    })
    sandbox.releaseDelays()
    await sandbox.settled()
    expect(sandbox.requests[0]).toMatchObject({ fault: 'delay 60000ms', status: null })
    expect(sandbox.latestBalances('icfg_a')).toBeUndefined()
  })

  it('applies a delayed request after the client left when asked to', async () => {
    sandbox.injectFault({ delayMs: 60_000, applyAfterDisconnect: true })
    await expect(submit(sandbox, 'icfg_a', validBody(), { timeoutMs: 50 })).rejects.toThrow()
    await vi.waitFor(() => expect(sandbox.requests[0]?.outcome).toBe('client-closed'), {
      timeout: 5000,
    })
    sandbox.releaseDelays()
    await sandbox.settled()
    expect(sandbox.latestBalances('icfg_a')).toMatchObject(validBody())
  })

  it('answers normally after a delay when the client waits', async () => {
    sandbox.injectFault({ delayMs: 60 })
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
    expect(sandbox.requests[0]?.durationMs).toBeGreaterThanOrEqual(55)
  })

  it('rejects a fault that does nothing with a coded error', () => {
    let thrown: unknown
    try {
      sandbox.injectFault({ installationId: 'icfg_a' })
    } catch (error) {
      thrown = error
    }
    expect(isPrepaidBalancesError(thrown, 'ERR_INVALID_OPTIONS')).toBe(true)
    expect(() => sandbox.injectFault({ status: 42 })).toThrow(/status/)
    expect(() => sandbox.injectFault({ status: 500, times: 0 })).toThrow(/times/)
  })

  it('clearFaults() drops queued faults', async () => {
    sandbox.injectFault({ status: 500, times: Number.POSITIVE_INFINITY })
    sandbox.clearFaults()
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
  })
})

describe('concurrency stats', () => {
  it('measures simultaneous requests overall and per installation', async () => {
    sandbox.injectFault({ installationId: 'icfg_a', delayMs: 60_000, times: 3 })
    const pending = Promise.all([
      submit(sandbox, 'icfg_a'),
      submit(sandbox, 'icfg_a'),
      submit(sandbox, 'icfg_a'),
      submit(sandbox, 'icfg_b', validBody(), { token: 'token-b' }),
    ])
    await vi.waitFor(() => expect(sandbox.inFlight('icfg_a')).toBe(3), { timeout: 5000 })
    expect(sandbox.inFlight()).toBeGreaterThanOrEqual(3)
    sandbox.releaseDelays()
    const replies = await pending
    expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 201])
    const stats = sandbox.stats()
    expect(stats.maxInFlightPerInstallation).toBe(3)
    expect(stats.maxInFlight).toBeGreaterThanOrEqual(3)
    expect(stats.inFlight).toBe(0)
    expect(sandbox.inFlight('icfg_a')).toBe(0)
  })
})

describe('random faults', () => {
  const draw = (plan: FaultPlan, n: number) =>
    Array.from({ length: n }, () => plan.take('icfg_a', 'submitBalances')?.description ?? 'ok')

  it('are replayable from the seed and respect rate and kinds', () => {
    const one = new FaultPlan()
    const two = new FaultPlan()
    one.setRandom({ rate: 0.3, seed: 42, kinds: [503, 'reset'] })
    two.setRandom({ rate: 0.3, seed: 42, kinds: [503, 'reset'] })
    const sequence = draw(one, 400)
    expect(draw(two, 400)).toEqual(sequence)
    const failed = sequence.filter((d) => d !== 'ok')
    expect(failed.length).toBeGreaterThan(80)
    expect(failed.length).toBeLessThan(160)
    expect(new Set(failed)).toEqual(new Set(['status 503', 'reset']))
  })

  it('fail sandbox requests at rate 1 and stop when cleared', async () => {
    sandbox.setRandomFaults({ rate: 1, seed: 7, kinds: [429], retryAfterMs: 10 })
    const limited = await submit(sandbox, 'icfg_a')
    expect([limited.status, limited.headers['retry-after-ms']]).toEqual([429, '10'])
    sandbox.clearFaults()
    expect((await submit(sandbox, 'icfg_a')).status).toBe(201)
  })
})
