/** What is remembered about an invoice once its credits were granted. */
export interface ProcessedInvoice {
  installationId: string
  invoiceId: string
  /** The invoice's `total` (decimal USD string) at the time it was credited. */
  total: string
  /** Epoch ms. */
  processedAt: number
}

/**
 * Remembers which invoices were already credited, so a retried Provision Purchase never credits
 * twice. The default lives in memory (lost on restart); give a persistent one in production —
 * ideally in the same database and transaction as your ledger, which makes crediting and
 * recording the invoice one atomic step. Methods may be sync or async.
 *
 * @example
 * const processedInvoices: ProcessedInvoiceStore = {
 *   get: (installationId, invoiceId) =>
 *     db.prepare('SELECT * FROM invoices WHERE installation_id = ? AND invoice_id = ?').get(installationId, invoiceId) ?? null,
 *   put: (r) => { db.prepare('INSERT OR IGNORE INTO invoices VALUES (?, ?, ?, ?)').run(r.installationId, r.invoiceId, r.total, r.processedAt) },
 * }
 */
export interface ProcessedInvoiceStore {
  get(
    installationId: string,
    invoiceId: string,
  ): Promise<ProcessedInvoice | null | undefined> | ProcessedInvoice | null | undefined
  put(record: ProcessedInvoice): Promise<void> | void
}

/**
 * An in-memory {@link ProcessedInvoiceStore}, the default; fine for tests and demos. Forgets
 * everything on restart, so a retry after a restart could credit again.
 *
 * @example
 * createPartnerApi({ reporter, clientId, onPurchase, processedInvoices: memoryProcessedInvoices() })
 */
export function memoryProcessedInvoices(): ProcessedInvoiceStore {
  const records = new Map<string, ProcessedInvoice>()
  const key = (installationId: string, invoiceId: string) => `${installationId}\u0000${invoiceId}`
  return {
    get: (installationId, invoiceId) => records.get(key(installationId, invoiceId)) ?? null,
    put: (record) => {
      records.set(key(record.installationId, record.invoiceId), { ...record })
    },
  }
}
