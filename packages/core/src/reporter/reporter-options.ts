import { z } from 'zod'
import { PrepaidBalancesError } from '../errors.js'
import { consoleLogger, type Logger } from '../logger.js'
import { parseOptions } from '../parse-options.js'
import type { BalanceStore } from '../store/store-types.js'
import type { BalanceReporterOptions, GetBalances, ReportResult } from './reporter-types.js'

/** Options after validation, with every default filled in. */
export interface ResolvedReporterOptions {
  store: BalanceStore
  getBalances: GetBalances
  apiUrl: string
  coalesceMs: number
  reportIntervalMs: number
  concurrency: number
  timeoutMs: number
  retry: {
    maxAttempts: number
    initialDelayMs: number
    maxDelayMs: number
    maxRetryAfterMs: number
  }
  onReport: ((result: ReportResult) => void) | undefined
  logger: Logger
  autoStart: boolean
  leaseMs: number
}

const storeMethods = [
  'init',
  'saveCredentials',
  'getCredentials',
  'getInstallation',
  'deleteInstallation',
  'listInstallationIds',
  'listPending',
  'listDue',
  'write',
  'close',
] as const

const fn = (hint: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: hint })

const optionsSchema = z.object({
  store: z.custom<BalanceStore>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      storeMethods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    { message: 'must be a store such as memoryStore({ encryptionKey }) or sqliteStore({ ... })' },
  ),
  getBalances: fn('must be a function (installationId) => balances[]'),
  apiUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL such as https://api.vercel.com' })
    .default('https://api.vercel.com'),
  coalesceMs: z.number().int().min(0).max(3_600_000).default(1000),
  reportIntervalMs: z.number().int().min(1000).max(86_400_000).default(3_600_000),
  concurrency: z.number().int().min(1).max(1024).default(16),
  timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  retry: z
    .object({
      maxAttempts: z.number().int().min(1).max(20).default(5),
      initialDelayMs: z.number().int().min(0).default(500),
      maxDelayMs: z.number().int().min(0).default(30_000),
      maxRetryAfterMs: z.number().int().min(0).default(60_000),
    })
    .strict()
    .default({ maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 }),
  onReport: fn('must be a function (result) => void').optional(),
  logger: z
    .custom<Logger>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as Logger).warn === 'function' &&
        typeof (v as Logger).error === 'function',
      { message: 'must have warn() and error() methods (console works)' },
    )
    .default(consoleLogger),
  autoStart: z.boolean().default(true),
  leaseMs: z.number().int().min(100).max(600_000).default(15_000),
})

/** Validates options once, at construction; errors name the option and how to fix it. */
export function resolveReporterOptions(options: BalanceReporterOptions): ResolvedReporterOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      'createBalanceReporter(options): options must be an object with at least { store, getBalances }',
    )
  }
  const value = parseOptions(optionsSchema.strict(), options, 'createBalanceReporter')
  return {
    ...value,
    apiUrl: value.apiUrl.replace(/\/+$/, ''),
    getBalances: value.getBalances as GetBalances,
    onReport: value.onReport as ((result: ReportResult) => void) | undefined,
  }
}
