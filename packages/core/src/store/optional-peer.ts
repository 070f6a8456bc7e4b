import { createRequire } from 'node:module'
import { PrepaidBalancesError } from '../errors.js'

export type RequireModule = (id: string) => unknown

/**
 * Loads an optional peer dependency (a database client) only when a store that needs it is
 * created, so importing the core never needs it. `factory` names the store for the error.
 *
 * Works in both builds: ESM knows its own URL, and tsup's CJS build leaves `import.meta` empty
 * (or shims it) but has a real `require`. Testing `typeof require` would not do: esbuild's ESM
 * output defines a `require` stand-in that throws on use.
 */
export function loadOptionalPeer(
  name: string,
  factory: string,
  requireModule: RequireModule = localRequire(),
): unknown {
  try {
    return requireModule(name)
  } catch (error) {
    if (isMissingModule(error, name)) {
      throw new PrepaidBalancesError(
        'ERR_STORE_DRIVER_MISSING',
        `${factory}() needs ${name}, an optional peer dependency that is not installed. ` +
          `Run \`npm install ${name}\` (or \`pnpm add\` / \`yarn add\`) in your app.`,
        { cause: error },
      )
    }
    const reason = error instanceof Error ? error.message : String(error)
    throw new PrepaidBalancesError('ERR_STORE', `${name} failed to load: ${reason}`, {
      cause: error,
    })
  }
}

function localRequire(): RequireModule {
  return typeof import.meta.url === 'string' ? createRequire(import.meta.url) : require
}

function isMissingModule(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  )
}
