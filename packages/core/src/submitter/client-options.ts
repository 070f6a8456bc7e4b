import { z } from 'zod'
import { PrepaidBalancesError } from '../errors.js'
import type { VercelClientOptions } from './submitter-types.js'

const positiveInt = z.number().int().positive()
const nonNegative = z.number().finite().nonnegative()

const clientOptionsSchema = z.object({
  apiUrl: z
    .string()
    .refine(
      isPlainHttpUrl,
      'must be an absolute http(s) URL without ?query or #hash, e.g. "https://api.vercel.com"',
    ),
  timeoutMs: positiveInt,
  connections: positiveInt.max(1024),
  retry: z
    .object({
      maxAttempts: positiveInt.max(100),
      initialDelayMs: nonNegative,
      maxDelayMs: nonNegative,
      maxRetryAfterMs: nonNegative,
    })
    .refine((retry) => retry.maxDelayMs >= retry.initialDelayMs, {
      message: 'maxDelayMs must be at least initialDelayMs',
      path: ['maxDelayMs'],
    }),
})

/** Where requests go: the pool's origin and a path prefix such as `/vercel` (or ''). */
export interface ApiTarget {
  origin: string
  pathPrefix: string
}

/**
 * Validates the options once, at construction, so a typo fails loudly at start-up rather than
 * as a stream of failed reports. The message names the option and what it must be.
 */
export function validateClientOptions(options: VercelClientOptions): ApiTarget {
  const parsed = clientOptionsSchema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const name = issue?.path.join('.') || 'options'
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      `Invalid Vercel client option "${name}": ${issue?.message ?? 'invalid value'}`,
    )
  }
  for (const hook of ['random', 'onRetry', 'now'] as const) {
    const value = (options as unknown as Record<string, unknown>)[hook]
    if (value !== undefined && typeof value !== 'function') {
      throw new PrepaidBalancesError(
        'ERR_INVALID_OPTIONS',
        `Invalid Vercel client option "${hook}": expected a function`,
      )
    }
  }
  const url = new URL(options.apiUrl)
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') }
}

function isPlainHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash
}
