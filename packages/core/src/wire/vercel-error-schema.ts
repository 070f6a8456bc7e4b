import { z } from 'zod'

/** Vercel's error body: `{"error":{"code":"…","message":"…","limit"?:{…}}}`. */
export const vercelErrorBodySchema = z.object({
  error: z
    .object({
      code: z.string(),
      message: z.string().optional(),
      limit: z
        .object({
          remaining: z.number().optional(),
          reset: z.number().optional(),
          resetMs: z.number().optional(),
          total: z.number().optional(),
        })
        .optional(),
    })
    .passthrough(),
})

export type VercelErrorBody = z.infer<typeof vercelErrorBodySchema>
