// Public API of @prepaid-balances/core. Re-exports only; behaviour lives in the folders below.
export { createBalanceReporter } from './reporter/create-balance-reporter.js'
export type {
  BalanceReporter,
  BalanceReporterOptions,
  GetBalances,
  InstallationStatus,
  ReportAllSummary,
  ReportReason,
  ReportResult,
  RetryOptions,
} from './reporter/reporter-types.js'

export { memoryStore } from './store/memory-store.js'
export { sqliteStore } from './store/sqlite-store.js'
export type {
  BalanceStore,
  InstallationRecord,
  ListOptions,
  ReportOutcome,
  StoredCredentials,
  StoreWrite,
  TokenState,
} from './store/store-types.js'

export { generateEncryptionKey } from './crypto/generate-encryption-key.js'
export { createKeyring, type EncryptionKeyInput, type Keyring } from './crypto/keyring.js'

export { isPrepaidBalancesError, PrepaidBalancesError } from './errors.js'
export type { PrepaidBalancesErrorCode } from './errors.js'
export { consoleLogger, silentLogger, type Logger } from './logger.js'

export {
  type Balance,
  balanceSchema,
  balancesSchema,
  type SubmitBalancesBody,
  submitBalancesBodySchema,
} from './wire/balance-schema.js'
export { installationIdSchema, isValidInstallationId } from './wire/installation-id.js'
export {
  type DeleteInstallationBody,
  deleteInstallationBodySchema,
  type Invoice,
  invoiceSchema,
  type InvoiceState,
  invoiceStateSchema,
  type ProvisionPurchaseBody,
  provisionPurchaseBodySchema,
  type UpsertInstallationBody,
  upsertInstallationBodySchema,
} from './wire/partner-api-schemas.js'
export { type VercelErrorBody, vercelErrorBodySchema } from './wire/vercel-error-schema.js'

// Partner API (Upsert/Delete Installation, Provision Purchase, cron and status routes).
export * from './partner-api/index.js'
