import type { z } from 'zod'
import type { BalanceReporter } from '../reporter/reporter-types.js'
import { installationIdSchema } from '../wire/installation-id.js'
import { badRequest, invalidBody } from './http-response.js'
import type { KeyedLock } from './keyed-lock.js'
import type { ResolvedPartnerApiOptions } from './partner-api-options.js'

/** What every route needs, built once by `createPartnerApi`. */
export interface RouteContext {
  options: ResolvedPartnerApiOptions
  reporter: BalanceReporter
  invoiceLock: KeyedLock
}

/** A decoded `:installationId` path segment, or a 400 naming what is wrong with it. */
export function parseInstallationId(value: string | undefined): string {
  const parsed = installationIdSchema.safeParse(value ?? '')
  if (parsed.success) return parsed.data
  throw badRequest('The installation id in the path is invalid', [
    { path: 'installationId', message: parsed.error.issues[0]?.message ?? 'invalid' },
  ])
}

/** Validates a parsed JSON body; a 400 listing every issue otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw invalidBody(parsed.error)
  return parsed.data
}
