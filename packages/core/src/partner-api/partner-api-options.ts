import { z } from 'zod'
import { PrepaidBalancesError } from '../errors.js'
import { consoleLogger, type Logger } from '../logger.js'
import { parseOptions } from '../parse-options.js'
import type { BalanceReporter } from '../reporter/reporter-types.js'
import type { PartnerApiOptions } from './partner-api-types.js'
import { memoryProcessedInvoices, type ProcessedInvoiceStore } from './processed-invoices.js'

/** Options after validation, defaults filled in. */
export interface ResolvedPartnerApiOptions
  extends Omit<
    PartnerApiOptions,
    'maxBodyBytes' | 'processedInvoices' | 'logger' | 'keepTokenOnDelete'
  > {
  maxBodyBytes: number
  processedInvoices: ProcessedInvoiceStore
  logger: Logger
  keepTokenOnDelete: boolean
}

const reporterMethods = [
  'saveInstallation',
  'deleteInstallation',
  'notify',
  'persisted',
  'flush',
  'reportAll',
  'reportDue',
  'reportNow',
  'getStatus',
  'getInvoice',
  'getBalances',
] as const

const hasMethods = (value: unknown, methods: readonly string[]) =>
  typeof value === 'object' &&
  value !== null &&
  methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')

const fn = (hint: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: hint })

const optionsSchema = z
  .object({
    reporter: z.custom<BalanceReporter>((v) => hasMethods(v, reporterMethods), {
      message: 'must be the reporter returned by createBalanceReporter({ store, getBalances })',
    }),
    clientId: z
      .string({ error: 'must be your integration client id (oac_…) from the Vercel dashboard' })
      .trim()
      .min(1, 'must be your integration client id (oac_…) from the Vercel dashboard'),
    jwksUrl: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL of a JWKS document' })
      .optional(),
    issuer: z
      .string()
      .min(1, 'must be a non-empty issuer such as https://marketplace.vercel.com')
      .optional(),
    clockToleranceSec: z.number().int().min(0).max(300).optional(),
    jwksRefreshIntervalMs: z.number().int().min(0).max(600_000).optional(),
    cronSecret: z
      .string({ error: 'must be a string (e.g. process.env.CRON_SECRET)' })
      .min(1, 'must not be empty; omit it to disable the cron and status routes')
      .optional(),
    onInstall: fn(
      'must be a function (context) => { billingPlan?, notification? } | void',
    ).optional(),
    onDelete: fn('must be a function (context) => { finalized? } | void').optional(),
    onPurchase: fn('must be a function (context) => void that credits context.invoice').optional(),
    keepTokenOnDelete: z.boolean().default(false),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024, 'must be at least 1024 bytes')
      .max(10 * 1024 * 1024, 'must be at most 10 MiB')
      .default(64 * 1024),
    processedInvoices: z
      .custom<ProcessedInvoiceStore>((v) => hasMethods(v, ['get', 'put']), {
        message: 'must be an object with get(installationId, invoiceId) and put(record)',
      })
      .optional(),
    logger: z
      .custom<Logger>((v) => hasMethods(v, ['warn', 'error']), {
        message: 'must have warn() and error() methods (console works)',
      })
      .default(consoleLogger),
  })
  .strict()

/** Validates once, at construction; errors name the option and how to fix it. */
export function resolvePartnerApiOptions(options: PartnerApiOptions): ResolvedPartnerApiOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PrepaidBalancesError(
      'ERR_INVALID_OPTIONS',
      'createPartnerApi(options): options must be an object with at least { reporter, clientId }',
    )
  }
  const value = parseOptions(optionsSchema, options, 'createPartnerApi')
  return {
    ...options,
    ...value,
    clientId: value.clientId,
    processedInvoices: value.processedInvoices ?? memoryProcessedInvoices(),
  } as ResolvedPartnerApiOptions
}
