import { describe, expect, it } from 'vitest'
import {
  backoffDelayMs,
  classifyStatus,
  decideRetry,
  isRetryableNetworkError,
  networkErrorCode,
  parseRetryAfterMs,
  type RetryPolicy,
} from './retry-policy.js'

const policy: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  maxRetryAfterMs: 5_000,
}
const NOW = Date.parse('2025-01-01T00:00:00Z')

describe('classifyStatus', () => {
  it.each([
    [200, 'delivered'],
    [201, 'delivered'],
    [204, 'delivered'],
    [400, 'invalid'],
    [401, 'rejected'],
    [403, 'rejected'],
    [404, 'gone'],
    [408, 'retryable'],
    [409, 'invalid'],
    [410, 'gone'],
    [422, 'invalid'],
    [429, 'retryable'],
    [500, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
    [302, 'invalid'],
  ] as const)('%i is %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected)
  })
})

describe('parseRetryAfterMs', () => {
  it('reads delta seconds', () => {
    expect(parseRetryAfterMs({ 'retry-after': '3' }, NOW)).toBe(3_000)
    expect(parseRetryAfterMs({ 'retry-after': ' 0 ' }, NOW)).toBe(0)
  })

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    const inTenSeconds = new Date(NOW + 10_000).toUTCString()
    expect(parseRetryAfterMs({ 'retry-after': inTenSeconds }, NOW)).toBe(10_000)
    const past = new Date(NOW - 10_000).toUTCString()
    expect(parseRetryAfterMs({ 'retry-after': past }, NOW)).toBe(0)
  })

  it('prefers retry-after-ms and accepts fractions (rounded up)', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' }, NOW)).toBe(250)
    expect(parseRetryAfterMs({ 'retry-after-ms': '12.2' }, NOW)).toBe(13)
  })

  it('falls back to Retry-After when retry-after-ms is malformed', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '2' }, NOW)).toBe(2_000)
  })

  it('returns null for missing or nonsense values', () => {
    expect(parseRetryAfterMs({}, NOW)).toBeNull()
    for (const value of ['', '-1', '1.5', 'tomorrow', '12abc']) {
      expect(parseRetryAfterMs({ 'retry-after': value }, NOW), value).toBeNull()
    }
    expect(parseRetryAfterMs({ 'retry-after-ms': '-5' }, NOW)).toBeNull()
  })

  it('uses the first value of a repeated header', () => {
    expect(parseRetryAfterMs({ 'retry-after': ['4', '9'] }, NOW)).toBe(4_000)
  })
})

describe('backoffDelayMs (equal jitter, capped)', () => {
  it('stays in [cap/2, cap] and doubles up to maxDelayMs', () => {
    const caps = [100, 200, 400, 800, 1_000, 1_000]
    caps.forEach((cap, index) => {
      const retry = index + 1
      expect(backoffDelayMs(retry, policy, () => 0)).toBe(cap / 2)
      expect(backoffDelayMs(retry, policy, () => 0.5)).toBe(cap * 0.75)
      expect(backoffDelayMs(retry, policy, () => 0.999_999)).toBe(cap)
    })
  })

  it('clamps a misbehaving random source into range', () => {
    expect(backoffDelayMs(1, policy, () => 7)).toBe(100)
    expect(backoffDelayMs(1, policy, () => -1)).toBe(50)
    expect(backoffDelayMs(1, policy, () => Number.NaN)).toBe(50)
  })
})

describe('decideRetry', () => {
  const random = () => 0

  it('retries transient failures with backoff until attempts run out', () => {
    const failure = { kind: 'status', status: 503, retryAfterMs: null } as const
    expect(decideRetry(failure, 1, policy, random)).toEqual({
      retry: true,
      delayMs: 50,
      reason: 'http_503',
    })
    expect(decideRetry(failure, 3, policy, random)).toMatchObject({ retry: true, delayMs: 200 })
    expect(decideRetry(failure, 4, policy, random)).toEqual({
      retry: false,
      why: 'attempts_exhausted',
    })
    expect(decideRetry({ kind: 'timeout' }, 1, policy, random)).toMatchObject({
      retry: true,
      reason: 'timeout',
    })
  })

  it('never retries final statuses', () => {
    for (const status of [400, 401, 403, 404, 410, 422]) {
      expect(decideRetry({ kind: 'status', status, retryAfterMs: 1 }, 1, policy, random)).toEqual({
        retry: false,
        why: 'not_retryable',
      })
    }
  })

  it('waits at least what the server asks, never less', () => {
    const failure = { kind: 'status', status: 429, retryAfterMs: 3_000 } as const
    expect(decideRetry(failure, 1, policy, () => 0.999)).toMatchObject({ delayMs: 3_000 })
    const shortAsk = { kind: 'status', status: 429, retryAfterMs: 10 } as const
    expect(decideRetry(shortAsk, 1, policy, random)).toMatchObject({ delayMs: 50 })
  })

  it('gives up when the server asks for more than maxRetryAfterMs', () => {
    const failure = { kind: 'status', status: 429, retryAfterMs: 5_001 } as const
    expect(decideRetry(failure, 1, policy, random)).toEqual({
      retry: false,
      why: 'retry_after_too_long',
    })
  })

  it('retries connection errors but not unknown errors', () => {
    expect(decideRetry({ kind: 'network', code: 'ECONNRESET' }, 1, policy, random)).toMatchObject({
      retry: true,
      reason: 'connection_error (ECONNRESET)',
    })
    expect(decideRetry({ kind: 'network', code: null }, 1, policy, random)).toMatchObject({
      retry: false,
    })
    expect(
      decideRetry({ kind: 'network', code: 'UND_ERR_INVALID_ARG' }, 1, policy, random),
    ).toMatchObject({ retry: false })
  })
})

describe('network error codes', () => {
  it('finds a retryable code in the cause chain', () => {
    const inner = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const outer = Object.assign(new Error('fetch failed', { cause: inner }), { code: 'X_WRAPPER' })
    expect(networkErrorCode(outer)).toBe('ECONNRESET')
    expect(isRetryableNetworkError(outer)).toBe(true)
  })

  it('reports the top code of non-retryable errors', () => {
    const error = Object.assign(new Error('bad'), { code: 'UND_ERR_INVALID_ARG' })
    expect(networkErrorCode(error)).toBe('UND_ERR_INVALID_ARG')
    expect(isRetryableNetworkError(error)).toBe(false)
    expect(isRetryableNetworkError(new Error('no code'))).toBe(false)
  })
})
