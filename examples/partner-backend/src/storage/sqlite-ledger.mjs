import Database from 'better-sqlite3'

/** @typedef {import('./token-ledger.mjs').TokenLedger} TokenLedger */

// Own tables, next to the library's `prepaid_balances_installations` in the same file.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS example_token_accounts (
    installation_id TEXT PRIMARY KEY,
    balance_cents   INTEGER NOT NULL DEFAULT 0 CHECK (balance_cents >= 0),
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER
  );
  CREATE TABLE IF NOT EXISTS example_processed_invoices (
    installation_id TEXT NOT NULL,
    invoice_id      TEXT NOT NULL,
    total           TEXT NOT NULL,
    cents           INTEGER NOT NULL,
    processed_at    INTEGER NOT NULL,
    PRIMARY KEY (installation_id, invoice_id)
  );
`

/**
 * The token ledger in a SQLite file (better-sqlite3). Several processes may share the file:
 * every write is one `BEGIN IMMEDIATE` transaction, so SQLite's file lock serialises them.
 *
 * @param {{ filename: string, busyTimeoutMs?: number }} options
 * @returns {TokenLedger}
 * @example
 * const ledger = sqliteLedger({ filename: './balances.db' })
 * await ledger.openAccount('icfg_1')
 * await ledger.creditInvoice({ installationId: 'icfg_1', invoiceId: 'inv_1', total: '5.00', cents: 500 })
 */
export function sqliteLedger({ filename, busyTimeoutMs = 5000 }) {
  const db = new Database(filename, { timeout: busyTimeoutMs })
  db.pragma('journal_mode = WAL')
  // Money: a committed credit must survive a power cut too, not only a process crash.
  db.pragma('synchronous = FULL')
  db.exec(SCHEMA)

  const sql = {
    open: db.prepare(`
      INSERT INTO example_token_accounts (installation_id, opened_at) VALUES (?, ?)
      ON CONFLICT (installation_id) DO UPDATE SET closed_at = NULL`),
    close: db.prepare(
      'UPDATE example_token_accounts SET closed_at = ? WHERE installation_id = ? AND closed_at IS NULL',
    ),
    recordInvoice: db.prepare(`
      INSERT INTO example_processed_invoices (installation_id, invoice_id, total, cents, processed_at)
      VALUES (@installationId, @invoiceId, @total, @cents, @now)
      ON CONFLICT DO NOTHING`),
    credit: db.prepare(`
      INSERT INTO example_token_accounts (installation_id, balance_cents, opened_at)
      VALUES (@installationId, @cents, @now)
      ON CONFLICT (installation_id) DO UPDATE SET balance_cents = balance_cents + excluded.balance_cents`),
    findInvoice: db.prepare(`
      SELECT installation_id AS installationId, invoice_id AS invoiceId, total, processed_at AS processedAt
      FROM example_processed_invoices WHERE installation_id = ? AND invoice_id = ?`),
    debit: db.prepare(`
      UPDATE example_token_accounts SET balance_cents = balance_cents - @cents
      WHERE installation_id = @installationId AND closed_at IS NULL AND balance_cents >= @cents
      RETURNING balance_cents AS balanceCents`),
    account: db.prepare(
      'SELECT balance_cents AS balanceCents, closed_at AS closedAt FROM example_token_accounts WHERE installation_id = ?',
    ),
  }

  /** @param {string} installationId */
  const account = (installationId) =>
    /** @type {{ balanceCents: number, closedAt: number | null } | undefined} */ (
      sql.account.get(installationId)
    )

  // Recording the invoice and crediting it commit together or not at all; the primary key on
  // (installation, invoice) makes the second of two racing transactions insert nothing.
  const creditOnce = db.transaction(
    (/** @type {import('./token-ledger.mjs').InvoiceCredit} */ credit) => {
      const now = Date.now()
      const recorded = sql.recordInvoice.run({ ...credit, now }).changes === 1
      if (recorded) {
        sql.credit.run({ installationId: credit.installationId, cents: credit.cents, now })
      }
      return { credited: recorded, balanceCents: account(credit.installationId)?.balanceCents ?? 0 }
    },
  )

  const spendAtomically = db.transaction(
    (/** @type {string} */ installationId, /** @type {number} */ cents) => {
      const row = /** @type {{ balanceCents: number } | undefined} */ (
        sql.debit.get({ installationId, cents })
      )
      if (row) return /** @type {const} */ ({ status: 'spent', balanceCents: row.balanceCents })
      const current = account(installationId)
      if (!current || current.closedAt !== null) return /** @type {const} */ ({ status: 'unknown' })
      return /** @type {const} */ ({ status: 'insufficient', balanceCents: current.balanceCents })
    },
  )

  return {
    async openAccount(installationId) {
      sql.open.run(installationId, Date.now())
    },
    async closeAccount(installationId) {
      sql.close.run(Date.now(), installationId)
    },
    // IMMEDIATE takes the write lock up front, so a concurrent writer waits (busy_timeout)
    // instead of failing to upgrade a read lock with SQLITE_BUSY.
    creditInvoice: async (credit) => creditOnce.immediate(credit),
    findInvoice: async (installationId, invoiceId) =>
      /** @type {import('./token-ledger.mjs').ProcessedInvoiceRecord | undefined} */ (
        sql.findInvoice.get(installationId, invoiceId)
      ) ?? null,
    spend: async (installationId, cents) => spendAtomically.immediate(installationId, cents),
    balanceCents: async (installationId) => account(installationId)?.balanceCents ?? null,
    async ping() {
      db.prepare('SELECT 1').get()
    },
    async close() {
      if (db.open) db.close()
    },
  }
}
