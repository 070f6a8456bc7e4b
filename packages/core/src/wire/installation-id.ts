import { z } from 'zod'

/**
 * Vercel installation ids look like `icfg_…`. We do not insist on the prefix (Vercel may change
 * it) but we do keep ids to a safe, URL-path-friendly alphabet so they can never smuggle path
 * segments into the Vercel URL or control characters into logs.
 */
export const installationIdSchema = z
  .string()
  .min(1, 'installation id must not be empty')
  .max(128, 'installation id is longer than 128 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'installation id may only contain letters, digits, "_" and "-"')

export function isValidInstallationId(value: unknown): value is string {
  return typeof value === 'string' && installationIdSchema.safeParse(value).success
}
