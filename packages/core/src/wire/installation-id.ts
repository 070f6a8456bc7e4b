import { z } from 'zod'

/**
 * Vercel installation ids look like `icfg_…`. We do not insist on the prefix (Vercel may change
 * it) but we do keep ids to a safe, URL-path-friendly alphabet so they can never smuggle path
 * segments into the Vercel URL or control characters into logs.
 */
const ALPHABET = /^[A-Za-z0-9_-]+$/
const MAX_LENGTH = 128

export const installationIdSchema = z
  .string()
  .min(1, 'installation id must not be empty')
  .max(MAX_LENGTH, `installation id is longer than ${MAX_LENGTH} characters`)
  .regex(ALPHABET, 'installation id may only contain letters, digits, "_" and "-"')

/**
 * The schema's rules checked directly: every `notify()` calls this, and `safeParse` (a result
 * object per call) cost ~3× the regex test (~0.2 µs more per call, measured in isolation).
 */
export function isValidInstallationId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_LENGTH &&
    ALPHABET.test(value)
  )
}
