import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import type { SubmitResult } from './submitter-types.js'
import { FAST_RETRY, submit, useSubmitterHarness } from './test-fixtures.js'

const harness = useSubmitterHarness()
const SLOW_RETRY = { ...FAST_RETRY, initialDelayMs: 5_000, maxDelayMs: 5_000 }

describe('abort and close', () => {
  it('a caller signal ends the wait between retries: skipped / aborted', async () => {
    const server = await harness.server({ status: 503 })
    const controller = new AbortController()
    const client = harness.client(server.url, {
      retry: SLOW_RETRY,
      onRetry: () => setTimeout(() => controller.abort(), 20),
    })
    const started = performance.now()
    const result = await submit(client, { signal: controller.signal })
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(result).toEqual({
      outcome: 'skipped',
      attempts: 1,
      status: 503,
      vercelRequestId: null,
      error: { code: 'aborted', message: 'The request to Vercel was aborted' },
    })
    expect(server.requests).toHaveLength(1)
  })

  it('a caller signal cuts the attempt in progress short', async () => {
    const server = await harness.server({ action: 'hang' })
    const controller = new AbortController()
    server.onRequest = () => controller.abort()
    const client = harness.client(server.url, { timeoutMs: 5_000 })
    const started = performance.now()
    const result = await submit(client, { signal: controller.signal })
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(result).toMatchObject({ outcome: 'skipped', attempts: 1, status: null })
    expect(result.error?.code).toBe('aborted')
  })

  it('an already aborted signal sends nothing', async () => {
    const server = await harness.server()
    const result = await submit(harness.client(server.url), { signal: AbortSignal.abort() })
    expect(result).toMatchObject({ outcome: 'skipped', attempts: 0, error: { code: 'aborted' } })
    expect(server.requests).toHaveLength(0)
  })

  it('close() ends submissions waiting to retry and refuses new ones', async () => {
    const server = await harness.server({ status: 503 })
    let markRetrying = () => {}
    const retrying = new Promise<void>((resolve) => {
      markRetrying = resolve
    })
    const client = harness.client(server.url, { retry: SLOW_RETRY, onRetry: () => markRetrying() })
    const pending = submit(client)
    await retrying
    const started = performance.now()
    await client.close()
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(await pending).toMatchObject({
      outcome: 'skipped',
      attempts: 1,
      error: { code: 'client_closed' },
    })
    expect(await submit(client)).toMatchObject({
      outcome: 'skipped',
      attempts: 0,
      error: { code: 'client_closed' },
    })
    expect(server.requests).toHaveLength(1)
  })

  it('close() lets an attempt in flight finish', async () => {
    const server = await harness.server({ status: 201, delayMs: 200 })
    const client = harness.client(server.url)
    const arrived = new Promise<void>((resolve) => {
      server.onRequest = () => resolve()
    })
    const pending = submit(client)
    await arrived
    const started = performance.now()
    await client.close()
    expect(performance.now() - started).toBeLessThan(800)
    expect(await pending).toMatchObject({ outcome: 'delivered', attempts: 1 })
  })

  it('close() cuts an attempt in flight after the grace period', async () => {
    const server = await harness.server({ action: 'hang' })
    const client = harness.client(server.url, { timeoutMs: 10_000 })
    const arrived = new Promise<void>((resolve) => {
      server.onRequest = () => resolve()
    })
    const pending = submit(client)
    await arrived
    const started = performance.now()
    await client.close()
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(900)
    expect(elapsed).toBeLessThan(3_000)
    expect(await pending).toMatchObject({ outcome: 'skipped', error: { code: 'client_closed' } })
  })
})

describe('shared rate-limit gate', () => {
  it('a 429 with Retry-After holds back other submissions of the client', async () => {
    const server = await harness.server()
    server.script({ status: 429, headers: { 'retry-after-ms': '300' } })
    let other: Promise<SubmitResult> | undefined
    const client = harness.client(server.url, {
      onRetry: () => {
        other ??= submit(client)
      },
    })
    const first = await submit(client)
    const second = await other
    expect(first).toMatchObject({ outcome: 'delivered', attempts: 2 })
    expect(second).toMatchObject({ outcome: 'delivered', attempts: 1 })
    const [limited, ...later] = server.requests
    expect(later).toHaveLength(2)
    for (const request of later) {
      expect(request.atMs - (limited?.atMs ?? 0)).toBeGreaterThanOrEqual(298)
    }
  })

  it('fails other submissions at once while the gate is closed for longer than allowed', async () => {
    const server = await harness.server()
    server.script({ status: 429, headers: { 'retry-after': '30' } })
    const client = harness.client(server.url)
    const first = await submit(client)
    const started = performance.now()
    const second = await submit(client)
    expect(performance.now() - started).toBeLessThan(500)
    expect(first).toMatchObject({
      outcome: 'failed',
      attempts: 1,
      error: { code: 'retry_after_too_long' },
    })
    expect(second).toMatchObject({
      outcome: 'failed',
      attempts: 0,
      error: { code: 'retry_after_too_long' },
    })
    expect(server.requests).toHaveLength(1)
  })

  it('a 503 with Retry-After delays only its own submission', async () => {
    const server = await harness.server()
    server.script({ status: 503, headers: { 'retry-after-ms': '400' } })
    let otherDone: number | undefined
    const client = harness.client(server.url, {
      onRetry: () => {
        void submit(client).then(() => {
          otherDone = performance.now()
        })
      },
    })
    await submit(client)
    const firstAt = server.requests[0]?.atMs ?? 0
    expect(otherDone).toBeDefined()
    expect((otherDone ?? Number.POSITIVE_INFINITY) - firstAt).toBeLessThan(300)
  })
})
