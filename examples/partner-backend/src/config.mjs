import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createKeyring } from '@prepaid-balances/core'

/**
 * @typedef {{ kind: 'sqlite', filename: string }} StorageConfig
 * Only SQLite for now. PostgreSQL (`DATABASE_URL`) and Redis (`REDIS_URL`) would be further
 * kinds here, opened by `openStorage()` behind the same ledger interface.
 */

/**
 * @typedef {object} BackendConfig
 * @property {number} port `PORT`; 0 picks a free port.
 * @property {string | undefined} host `HOST`; unset listens on every interface.
 * @property {string} vercelApiUrl `VERCEL_API_URL`
 * @property {string} jwksUrl `VERCEL_JWKS_URL`
 * @property {string} clientId `INTEGRATION_CLIENT_ID`
 * @property {string | undefined} cronSecret `CRON_SECRET`; unset switches the cron and status routes off.
 * @property {string} encryptionKey `BALANCES_ENCRYPTION_KEY`
 * @property {StorageConfig} storage
 */

/** Every problem with the environment at once, so one restart fixes them all. */
export class ConfigError extends Error {
  /** @param {string[]} problems */
  constructor(problems) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Empty strings count as unset: `FOO= node server.mjs` should not mean "FOO is ''". */
const read = (
  /** @type {Record<string, string | undefined>} */ env,
  /** @type {string} */ name,
) => {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/**
 * Reads and validates the example's configuration from the environment. Messages name the
 * variable and the fix, and never repeat a secret's value.
 *
 * @param {Record<string, string | undefined>} [env]
 * @returns {BackendConfig}
 * @example
 * const config = loadConfig(process.env) // throws ConfigError listing every problem
 */
export function loadConfig(env = process.env) {
  /** @type {string[]} */
  const problems = []

  const portText = read(env, 'PORT') ?? '3000'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535) {
    problems.push(`PORT must be a port number (0-65535), got "${portText}"`)
  }

  const url = (/** @type {string} */ name, /** @type {string} */ fallback) => {
    const value = read(env, name) ?? fallback
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      problems.push(`${name} must be an http(s) URL, got "${value}"`)
    }
    return value.replace(/\/+$/, '')
  }
  const vercelApiUrl = url('VERCEL_API_URL', 'https://api.vercel.com')
  const jwksUrl = url('VERCEL_JWKS_URL', 'https://marketplace.vercel.com/.well-known/jwks')

  const clientId = read(env, 'INTEGRATION_CLIENT_ID') ?? ''
  if (!clientId) {
    problems.push(
      'INTEGRATION_CLIENT_ID is required: your integration client id (oac_…) from the Vercel dashboard',
    )
  }

  const encryptionKey = read(env, 'BALANCES_ENCRYPTION_KEY') ?? ''
  if (!encryptionKey) {
    problems.push(
      'BALANCES_ENCRYPTION_KEY is required: a base64 32-byte key, e.g. from `node -e "console.log(crypto.randomBytes(32).toString(\'base64\'))"`',
    )
  } else {
    try {
      createKeyring(encryptionKey)
    } catch (error) {
      // The library's messages describe the shape problem and never contain key material.
      problems.push(`BALANCES_ENCRYPTION_KEY is invalid: ${errorMessage(error)}`)
    }
  }

  for (const name of ['DATABASE_URL', 'REDIS_URL']) {
    if (read(env, name) !== undefined) {
      problems.push(
        `${name} is set, but this example only stores its ledger in SQLite so far; unset ${name} and use BALANCES_DB`,
      )
    }
  }
  const dbPath = read(env, 'BALANCES_DB') ?? 'balances.db'
  if (dbPath === ':memory:') {
    problems.push(
      'BALANCES_DB must be a file path: an in-memory database would lose every balance on restart',
    )
  } else if (!isDirectory(dirname(resolve(dbPath)))) {
    problems.push(`BALANCES_DB: the directory of "${dbPath}" does not exist; create it first`)
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    port,
    host: read(env, 'HOST'),
    vercelApiUrl,
    jwksUrl,
    clientId,
    cronSecret: read(env, 'CRON_SECRET'),
    encryptionKey,
    storage: { kind: 'sqlite', filename: resolve(dbPath) },
  }
}

/**
 * What is safe to print at startup: secrets only as "set"/"not set".
 *
 * @param {BackendConfig} config
 */
export function describeConfig(config) {
  return {
    vercelApiUrl: config.vercelApiUrl,
    jwksUrl: config.jwksUrl,
    clientId: config.clientId,
    cronSecret: config.cronSecret ? 'set' : 'not set (cron and status routes off)',
    encryptionKey: 'set',
    storage: `${config.storage.kind}:${config.storage.filename}`,
  }
}

/** @param {string} path */
function isDirectory(path) {
  return existsSync(path) && statSync(path).isDirectory()
}

/** @param {unknown} error */
export function errorMessage(error) {
  return error instanceof Error ? error.message : String(error)
}
