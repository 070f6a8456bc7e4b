import { z } from 'zod'

/**
 * The wire format of Submit Prepayment Balances (`POST /v1/installations/{id}/billing/balance`).
 * Vercel declares `additionalProperties: false` at both levels, so the schemas are strict:
 * an unknown key is an error here rather than a 400 from Vercel later.
 */
export const balanceSchema = z
  .object({
    /** USD value of the credit balance, in cents. Fractions and negatives are passed through. */
    currencyValueInCents: z
      .number({ error: 'expected a finite number' })
      .refine(Number.isFinite, { message: 'expected a finite number (not NaN or Infinity)' }),
    /** Omit for credits that belong to the whole installation. */
    resourceId: z.string().min(1).optional(),
    /** Human readable amount, e.g. "2,000 Tokens". */
    credit: z.string().optional(),
    /** Unit label, e.g. "Tokens". */
    nameLabel: z.string().optional(),
  })
  .strict()

export const balancesSchema = z.array(balanceSchema)

export const submitBalancesBodySchema = z
  .object({
    /** ISO-8601 UTC server time at which the balances were read. */
    timestamp: z.iso.datetime(),
    balances: balancesSchema,
  })
  .strict()

export type Balance = z.infer<typeof balanceSchema>
export type SubmitBalancesBody = z.infer<typeof submitBalancesBodySchema>
