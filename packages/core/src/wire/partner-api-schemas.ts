import { z } from 'zod'

/** Body of Vercel's Upsert Installation call (`PUT /v1/installations/{installationId}`). */
export const upsertInstallationBodySchema = z
  .object({
    scopes: z.array(z.string()).default([]),
    acceptedPolicies: z.record(z.string(), z.string()).default({}),
    credentials: z.object({
      access_token: z.string().min(1, 'credentials.access_token must not be empty'),
      token_type: z.string().min(1).default('Bearer'),
    }),
    account: z
      .object({
        name: z.string().optional(),
        url: z.string().optional(),
        contact: z.object({ email: z.string(), name: z.string().optional() }).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough()

/** Body of Vercel's Delete Installation call. */
export const deleteInstallationBodySchema = z
  .object({
    cascadeResourceDeletion: z.boolean().optional(),
    reason: z.string().optional(),
  })
  .passthrough()

/** Body of Vercel's Provision Purchase call. */
export const provisionPurchaseBodySchema = z
  .object({ invoiceId: z.string().min(1, 'invoiceId must not be empty') })
  .passthrough()

export const invoiceStateSchema = z.enum([
  'draft',
  'pending',
  'scheduled',
  'issued',
  'paid',
  'notpaid',
  'refund_requested',
  'refunded',
])

/** Response of Get Invoice (`GET /v1/installations/{id}/billing/invoices/{invoiceId}`). */
export const invoiceSchema = z
  .object({
    invoiceId: z.string(),
    state: invoiceStateSchema,
    /** Decimal USD string, e.g. "12.50". */
    total: z.string().regex(/^-?\d+(\.\d+)?$/, 'total must be a decimal USD string'),
    items: z
      .array(
        z
          .object({
            total: z.string(),
            resourceId: z.string().optional(),
            billingPlanId: z.string().optional(),
            name: z.string().optional(),
          })
          .passthrough(),
      )
      .default([]),
  })
  .passthrough()

export type UpsertInstallationBody = z.infer<typeof upsertInstallationBodySchema>
export type DeleteInstallationBody = z.infer<typeof deleteInstallationBodySchema>
export type ProvisionPurchaseBody = z.infer<typeof provisionPurchaseBodySchema>
export type Invoice = z.infer<typeof invoiceSchema>
export type InvoiceState = z.infer<typeof invoiceStateSchema>
