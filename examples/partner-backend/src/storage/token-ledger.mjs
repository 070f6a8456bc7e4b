/*
 * The small interface every ledger backend implements. 1 cent buys 1 token, so balances are kept
 * in cents. Methods are async so that networked backends (PostgreSQL, Redis) fit unchanged.
 *
 * Two rules each backend must keep:
 * - `creditInvoice` records the invoice and credits its cents in ONE atomic step, and credits
 *   only if the invoice was not recorded before: retries and concurrent duplicates, from any
 *   number of processes sharing the storage, credit once.
 * - `spend` checks and debits in one atomic step: the balance never goes below zero.
 */

/**
 * @typedef {object} InvoiceCredit
 * @property {string} installationId
 * @property {string} invoiceId
 * @property {string} total The invoice's `total` as Vercel sent it (decimal USD string).
 * @property {number} cents `total` in integer cents.
 */

/**
 * @typedef {object} CreditResult
 * @property {boolean} credited False when the invoice had been credited before.
 * @property {number} balanceCents The balance after this call.
 */

/**
 * @typedef {{ status: 'spent', balanceCents: number }
 *   | { status: 'insufficient', balanceCents: number }
 *   | { status: 'unknown' }} SpendResult
 * `unknown`: no open account for the installation (never installed, or deleted).
 */

/**
 * @typedef {object} ProcessedInvoiceRecord
 * @property {string} installationId
 * @property {string} invoiceId
 * @property {string} total
 * @property {number} processedAt Epoch ms.
 */

/**
 * @typedef {object} TokenLedger
 * @property {(installationId: string) => Promise<void>} openAccount Idempotent; reopens a closed account with its balance.
 * @property {(installationId: string) => Promise<void>} closeAccount Keeps the balance (final invoices may follow); spending stops.
 * @property {(credit: InvoiceCredit) => Promise<CreditResult>} creditInvoice
 * @property {(installationId: string, invoiceId: string) => Promise<ProcessedInvoiceRecord | null>} findInvoice
 * @property {(installationId: string, cents: number) => Promise<SpendResult>} spend
 * @property {(installationId: string) => Promise<number | null>} balanceCents Null when the installation has no account.
 * @property {() => Promise<void>} ping Throws when the storage is unreachable.
 * @property {() => Promise<void>} close
 */

export {}
