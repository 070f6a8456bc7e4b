import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import { silentLogger } from '../logger.js'
import { createBalanceReporter } from '../reporter/create-balance-reporter.js'
import type { BalanceReporter } from '../reporter/reporter-types.js'
import { memoryStore } from '../store/memory-store.js'
import { createVercelSandbox, type VercelSandbox } from '../testing/sandbox-server.js'
import { createTestIssuer, type TestIssuer } from '../testing/test-issuer.js'
import { createPartnerApi } from './partner-api.js'
import type { PartnerApi, PartnerApiOptions, PartnerApiRequest } from './partner-api-types.js'

export const CLIENT_ID = 'oac_partner_test'
export const CRON_SECRET = 'cron-secret-for-tests-0123456789'

/** A partner ledger in cents per installation. */
export class Ledger {
  readonly cents = new Map<string, number>()
  credit(id: string, cents: number) {
    this.cents.set(id, (this.cents.get(id) ?? 0) + cents)
  }
  balances = (id: string) => [
    {
      currencyValueInCents: this.cents.get(id) ?? 0,
      credit: `${this.cents.get(id) ?? 0} Tokens`,
      nameLabel: 'Tokens',
    },
  ]
}

export interface PartnerApiHarness {
  issuer: TestIssuer
  sandbox: VercelSandbox
  reporter: BalanceReporter
  ledger: Ledger
  api: PartnerApi
  purchases: string[]
  /** A valid Upsert Installation request for `id` (token `tok_<id>` known to the sandbox). */
  upsertRequest(id: string, overrides?: Partial<PartnerApiRequest>): PartnerApiRequest
  provisionRequest(id: string, invoiceId: string): PartnerApiRequest
  /** Upserts through the API and waits for the first report. */
  install(id: string): Promise<void>
  cleanup(): Promise<void>
}

/** Issuer, sandbox, real reporter over a memory store, and the Partner API on top. */
export async function createPartnerApiHarness(
  overrides: Partial<PartnerApiOptions> = {},
): Promise<PartnerApiHarness> {
  const [issuer, sandbox] = await Promise.all([
    createTestIssuer({ audience: CLIENT_ID }),
    createVercelSandbox(),
  ])
  const ledger = new Ledger()
  const purchases: string[] = []
  const reporter = createBalanceReporter({
    store: memoryStore({ encryptionKey: generateEncryptionKey() }),
    getBalances: ledger.balances,
    apiUrl: sandbox.url,
    coalesceMs: 10,
    logger: silentLogger,
    retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1000 },
  })
  const api = createPartnerApi({
    reporter,
    clientId: CLIENT_ID,
    jwksUrl: issuer.jwksUrl,
    cronSecret: CRON_SECRET,
    logger: silentLogger,
    onPurchase: ({ installationId, invoice }) => {
      purchases.push(invoice.invoiceId)
      ledger.credit(installationId, Math.round(Number(invoice.total) * 100))
    },
    ...overrides,
  })
  const headers = (id: string) => ({
    authorization: `Bearer ${issuer.sign({ installation_id: id })}`,
    'x-vercel-auth': 'user',
    'content-type': 'application/json',
  })
  const harness: PartnerApiHarness = {
    issuer,
    sandbox,
    reporter,
    ledger,
    api,
    purchases,
    upsertRequest: (id, more = {}) => ({
      method: 'PUT',
      path: `/v1/installations/${id}`,
      headers: headers(id),
      rawBody: JSON.stringify({
        scopes: ['read-write:integration-resource'],
        acceptedPolicies: { toc: '2025-01-01T00:00:00Z' },
        credentials: { access_token: `tok_${id}`, token_type: 'Bearer' },
        account: {
          name: 'Acme',
          url: 'https://acme.example',
          contact: { email: 'a@acme.example' },
        },
      }),
      ...more,
    }),
    provisionRequest: (id, invoiceId) => ({
      method: 'POST',
      path: `/v1/installations/${id}/billing/provision`,
      headers: headers(id),
      rawBody: JSON.stringify({ invoiceId }),
    }),
    async install(id) {
      sandbox.addInstallation(id, { accessToken: `tok_${id}` })
      const response = await api.handle(harness.upsertRequest(id))
      if (response?.status !== 200) throw new Error(`install failed: ${JSON.stringify(response)}`)
      await reporter.flush()
    },
    async cleanup() {
      await reporter.close()
      await Promise.all([issuer.close(), sandbox.close()])
    },
  }
  return harness
}
