import { sqliteStore } from '@prepaid-balances/core'
import { sqliteLedger } from './sqlite-ledger.mjs'

/**
 * @typedef {object} Storage
 * @property {import('./token-ledger.mjs').TokenLedger} ledger The partner's own data: balances and credited invoices.
 * @property {import('@prepaid-balances/core').BalanceStore} balanceStore The library's data: encrypted tokens and report state.
 */

/**
 * Opens the ledger and the library's store on the configured storage. One place chooses the
 * backend: adding PostgreSQL or Redis means one more `case` returning both halves.
 *
 * @param {import('../config.mjs').BackendConfig} config
 * @returns {Storage}
 */
export function openStorage(config) {
  const { storage } = config
  switch (storage.kind) {
    case 'sqlite':
      return {
        ledger: sqliteLedger({ filename: storage.filename }),
        balanceStore: sqliteStore({
          filename: storage.filename,
          encryptionKey: config.encryptionKey,
        }),
      }
    default:
      throw new Error(
        `Unsupported storage kind "${/** @type {{ kind: string }} */ (storage).kind}"`,
      )
  }
}
