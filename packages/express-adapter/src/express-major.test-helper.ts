import express from 'express'
import { inject } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Express major the vitest project means to load (`provide` in vitest.config.ts). */
    expressMajor: 4 | 5
  }
}

/**
 * The Express major these tests really loaded: Express 5 removed the `express.query` middleware
 * that every Express 4 exports. Read from the module itself, so a project whose `express` alias
 * silently did not apply shows up as a mismatch with {@link expectedExpressMajor}.
 */
export const loadedExpressMajor: 4 | 5 = 'query' in express ? 4 : 5

/** The major the running vitest project was configured for. */
export const expectedExpressMajor = inject('expressMajor')

/**
 * The `it.skipIf` condition of a test whose subject only Express 5 does: true on Express 4, and
 * then the reason is printed, as the default reporter shows no skipped test's name.
 */
export function skipOnExpress4(test: string, reason: string): boolean {
  if (loadedExpressMajor !== 4) return false
  console.info(`Skipped on Express 4: "${test}": ${reason}`)
  return true
}
