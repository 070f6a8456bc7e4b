// @prepaid-balances/example-backend: re-exports only.
export { ConfigError, describeConfig, loadConfig } from './config.mjs'
export {
  isJsonContentType,
  malformedJson,
  mayBeJson,
  notFound,
  notJson,
  USAGE_MAX_BODY_BYTES,
  usageBodyTooLarge,
} from './http-answers.mjs'
export { createPartnerBackend, tokenBalances } from './partner-backend.mjs'
export { loadConfigOrExit, runUntilSignal } from './server-lifecycle.mjs'
export { openStorage } from './storage/open-storage.mjs'
export { sqliteLedger } from './storage/sqlite-ledger.mjs'
export { formatUsd, usdToCents } from './usd-cents.mjs'
