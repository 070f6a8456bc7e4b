import type { z } from 'zod'
import { PrepaidBalancesError } from './errors.js'

/**
 * Validates a public factory's options once, at construction. On failure throws
 * `ERR_INVALID_OPTIONS` whose message starts with the factory's name and lists every problem by
 * option name (`option "retry.maxAttempts" …`, `unknown option(s) …`), so the fix is obvious.
 */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  factory: string,
): z.output<Schema> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues
    .map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown option(s) ${issue.keys.join(', ')}`
        : `option "${issue.path.join('.') || '(options)'}" ${issue.message}`,
    )
    .join('; ')
  throw new PrepaidBalancesError('ERR_INVALID_OPTIONS', `${factory}: ${problems}`)
}
