// Public API of @prepaid-balances/core. Re-exports only; behaviour lives in the folders below.

export { generateEncryptionKey } from './crypto/generate-encryption-key.js'
export { createKeyring, type EncryptionKeyInput, type Keyring } from './crypto/keyring.js'
export type { PrepaidBalancesErrorCode } from './errors.js'
export { isPrepaidBalancesError, PrepaidBalancesError } from './errors.js'
export { consoleLogger, type Logger, silentLogger } from './logger.js'
// Partner API (Upsert/Delete Installation, Provision Purchase, cron and status routes).
export * from './partner-api/index.js'
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
export {
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  type PgQueryResult,
  type PostgresStoreOptions,
  postgresStore,
} from './store/postgres-store.js'
export { type RedisClient, type RedisStoreOptions, redisStore } from './store/redis-store.js'
export { sqliteStore } from './store/sqlite-store.js'
export type {
  BalanceStore,
  HeldLease,
  InstallationRecord,
  LeaseBatchOptions,
  LeaseClaim,
  LeaseClaimOptions,
  ListOptions,
  ReportOutcome,
  StoredCredentials,
  StoreLeases,
  StoreWrite,
  TokenState,
} from './store/store-types.js'
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
  type InvoiceState,
  invoiceSchema,
  invoiceStateSchema,
  type ProvisionPurchaseBody,
  provisionPurchaseBodySchema,
  type UpsertInstallationBody,
  upsertInstallationBodySchema,
} from './wire/partner-api-schemas.js'
export { type VercelErrorBody, vercelErrorBodySchema } from './wire/vercel-error-schema.js'
