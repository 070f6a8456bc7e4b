import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { FAST_RETRY, submit, useSubmitterHarness, vercelError } from './test-fixtures.js'
import { closedPortUrl, gapsMs } from './test-server.js'

const harness = useSubmitterHarness()
/** Timers may fire a hair early after rounding; waits are checked against this slack. */
const EARLY_MS = 2
/** Generous upper slack for a shared 2-core machine. */
const LATE_MS = 250

type RetryInfo = { attempt: number; delayMs: number; reason: string }

describe('retries and backoff', () => {
  it('recovers from a transient failure', async () => {
    const server = await harness.server()
    server.script(vercelError(503, 'internal_server_error', 'Try again'))
    const result = await submit(harness.client(server.url))
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2, status: 201, error: null })
  })

  it.each([
    ['low', () => 0, [10, 20, 30]],
    ['high', () => 0.999_999, [20, 40, 60]],
  ])('keeps waits within capped exponential bounds (random %s)', async (_, random, delays) => {
    const server = await harness.server({ status: 500 })
    const retries: RetryInfo[] = []
    const client = harness.client(server.url, {
      random,
      retry: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 60, maxRetryAfterMs: 1_000 },
      onRetry: (info) => retries.push(info),
    })
    const result = await submit(client)
    expect(result).toMatchObject({ outcome: 'failed', attempts: 4, status: 500 })
    expect(retries).toEqual(
      delays.map((delayMs, index) => ({
        installationId: 'icfg_abc123',
        attempt: index + 1,
        delayMs,
        reason: 'http_500',
      })),
    )
    gapsMs(server.requests).forEach((gap, index) => {
      const delay = delays[index] ?? 0
      expect(gap).toBeGreaterThanOrEqual(delay - EARLY_MS)
      expect(gap).toBeLessThan(delay + LATE_MS)
    })
  })

  it('honours Retry-After in seconds', async () => {
    const server = await harness.server()
    server.script({ status: 503, headers: { 'retry-after': '1' } })
    const result = await submit(harness.client(server.url, { random: () => 0 }))
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 })
    const [gap] = gapsMs(server.requests)
    expect(gap).toBeGreaterThanOrEqual(1_000 - EARLY_MS)
    expect(gap).toBeLessThan(1_000 + LATE_MS)
  })

  it('never sends before the Retry-After instant, even when a wait ends early by the clock', async () => {
    // A clock running 10% slow: every timer ends "early" by it, as timers counting from a busy
    // event loop's cached clock do by a few ms. The client must wait again until it is time.
    const startedAt = Date.now()
    const now = () => startedAt + (Date.now() - startedAt) * 0.9
    const server = await harness.server()
    const arrivals: number[] = []
    server.onRequest = () => arrivals.push(now())
    server.script({ status: 503, headers: { 'retry-after': '1' } })
    const client = harness.client(server.url, { random: () => 0, now })
    expect(await submit(client)).toMatchObject({ outcome: 'delivered', attempts: 2 })
    // The client received the 503 after the server saw the request: its wait ends later still.
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(1_000)
  })

  it('honours Retry-After as an HTTP date, using the injected clock', async () => {
    const serverDateMs = Math.ceil(Date.now() / 1_000) * 1_000 + 60_000
    // The client believes it is 150 ms before the date the server names.
    const offset = serverDateMs - 150 - Date.now()
    const server = await harness.server()
    server.script({ status: 503, headers: { 'retry-after': new Date(serverDateMs).toUTCString() } })
    const retries: RetryInfo[] = []
    const client = harness.client(server.url, {
      random: () => 0,
      now: () => Date.now() + offset,
      onRetry: (info) => retries.push(info),
    })
    expect(await submit(client)).toMatchObject({ outcome: 'delivered', attempts: 2 })
    const delayMs = retries[0]?.delayMs ?? 0
    expect(delayMs).toBeGreaterThan(100)
    expect(delayMs).toBeLessThanOrEqual(150)
    expect(gapsMs(server.requests)[0]).toBeGreaterThanOrEqual(delayMs - EARLY_MS)
  })

  it('prefers retry-after-ms over Retry-After', async () => {
    const server = await harness.server()
    server.script({ status: 429, headers: { 'retry-after-ms': '120', 'retry-after': '30' } })
    const retries: RetryInfo[] = []
    const client = harness.client(server.url, { onRetry: (info) => retries.push(info) })
    expect(await submit(client)).toMatchObject({ outcome: 'delivered', attempts: 2 })
    expect(retries[0]).toMatchObject({ delayMs: 120, reason: 'http_429' })
    const [gap] = gapsMs(server.requests)
    expect(gap).toBeGreaterThanOrEqual(120 - EARLY_MS)
    expect(gap).toBeLessThan(120 + LATE_MS)
  })

  it('gives up at once when the server asks for more than maxRetryAfterMs', async () => {
    const server = await harness.server()
    server.script({
      ...vercelError(429, 'rate_limited', 'Slow down'),
      headers: { 'retry-after': '60' },
    })
    const started = performance.now()
    const result = await submit(harness.client(server.url))
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(result).toMatchObject({ outcome: 'failed', attempts: 1, status: 429 })
    expect(result.error?.code).toBe('retry_after_too_long')
    expect(result.error?.message).toContain('rate_limited')
  })
})

describe('connection failures', () => {
  it('retries a connection reset', async () => {
    const server = await harness.server()
    server.script({ action: 'destroy' })
    const result = await submit(harness.client(server.url))
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2, status: 201 })
  })

  it('fails with connection_error after repeated resets', async () => {
    const server = await harness.server({ action: 'destroy' })
    const result = await submit(harness.client(server.url))
    expect(result).toMatchObject({ outcome: 'failed', attempts: 3, status: null })
    expect(result.error?.code).toBe('connection_error')
    expect(server.requests).toHaveLength(3)
  })

  it('retries a refused connection, then fails', async () => {
    const retries: RetryInfo[] = []
    const client = harness.client(await closedPortUrl(), { onRetry: (info) => retries.push(info) })
    const result = await submit(client)
    expect(result).toMatchObject({ outcome: 'failed', attempts: 3, status: null })
    expect(result.error).toEqual({
      code: 'connection_error',
      message: 'Could not complete the request to Vercel (ECONNREFUSED)',
    })
    expect(retries.map((retry) => retry.reason)).toEqual([
      'connection_error (ECONNREFUSED)',
      'connection_error (ECONNREFUSED)',
    ])
  })

  it('times out an attempt that never gets an answer', async () => {
    const server = await harness.server({ action: 'hang' })
    const client = harness.client(server.url, {
      timeoutMs: 100,
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    })
    const started = performance.now()
    const result = await submit(client)
    const elapsed = performance.now() - started
    expect(result).toEqual({
      outcome: 'failed',
      attempts: 2,
      status: null,
      vercelRequestId: null,
      error: { code: 'timeout', message: 'Vercel did not answer within 100 ms' },
    })
    expect(elapsed).toBeGreaterThanOrEqual(200 - EARLY_MS)
    expect(elapsed).toBeLessThan(200 + 40 + LATE_MS)
  })

  it('a stalled error body is cut at the timeout and the status still counts', async () => {
    const server = await harness.server({ action: 'stall-body', status: 503 })
    const client = harness.client(server.url, {
      timeoutMs: 100,
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    })
    const started = performance.now()
    const result = await submit(client)
    expect(performance.now() - started).toBeLessThan(200 + 40 + LATE_MS)
    expect(result).toMatchObject({ outcome: 'failed', attempts: 2, status: 503 })
  })

  it('a 201 whose body stalls is still delivered', async () => {
    const server = await harness.server({ action: 'stall-body', status: 201 })
    const client = harness.client(server.url, { timeoutMs: 100 })
    expect(await submit(client)).toMatchObject({ outcome: 'delivered', attempts: 1, status: 201 })
  })

  it('keeps the last status and request id when a later attempt fails to connect', async () => {
    const server = await harness.server({ action: 'destroy' })
    server.script(vercelError(502, 'bad_gateway', 'Upstream'))
    const result = await submit(
      harness.client(server.url, { retry: { ...FAST_RETRY, maxAttempts: 2 } }),
    )
    expect(result).toMatchObject({
      outcome: 'failed',
      attempts: 2,
      status: 502,
      vercelRequestId: 'iad1::bad_gateway',
      error: { code: 'connection_error' },
    })
  })
})
