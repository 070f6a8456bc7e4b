import { generateEncryptionKey } from '../crypto/generate-encryption-key.js'
import type { Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import type { PartnerApiOptions } from '../partner-api/partner-api-types.js'
import { memoryProcessedInvoices } from '../partner-api/processed-invoices.js'
import { createBalanceReporter } from '../reporter/create-balance-reporter.js'
import type { BalanceReporter } from '../reporter/reporter-types.js'
import { memoryStore } from '../store/memory-store.js'
import { createVercelSandbox, type VercelSandbox } from './sandbox-server.js'
import { createTestIssuer, type TestIssuer } from './test-issuer.js'

/**
 * Everything a test of a framework adapter needs: a test issuer, a Vercel sandbox, a partner
 * ledger in cents and a real reporter over a memory store whose `notify` calls are recorded.
 */
export interface AdapterTestKit {
  /** The OIDC audience the issuer signs for (pass it as `clientId`). */
  clientId: string
  cronSecret: string
  /** Invoice ids credited by the `onPurchase` of {@link AdapterTestKit.routeOptions}, in order. */
  credited: string[]
  /**
   * Route options wired to this kit: its reporter, issuer, cron secret and logger, and an
   * `onPurchase` that credits `cents` (1 USD = 100) and records the invoice in `credited`.
   */
  routeOptions(): PartnerApiOptions
  issuer: TestIssuer
  sandbox: VercelSandbox
  reporter: BalanceReporter
  cents: Map<string, number>
  /** Every `notify` the reporter received, in order. */
  notified: string[]
  logged: string[]
  logger: Logger
  headers(installationId: string, extra?: Record<string, string>): Record<string, string>
  upsertBody(installationId: string): string
  close(): Promise<void>
}

/**
 * Creates the kit the Hono and Express adapters test themselves with; partners writing an adapter
 * for another framework can use it the same way.
 *
 * @example
 * const kit = await createAdapterTestKit({ clientId: 'oac_test' })
 * const app = new Hono().route('/', prepaidBalances({ reporter: kit.reporter, clientId: kit.clientId }))
 * const res = await app.request('/v1/installations/icfg_1', {
 *   method: 'PUT', headers: kit.headers('icfg_1'), body: kit.upsertBody('icfg_1'),
 * })
 * await kit.close()
 */
export async function createAdapterTestKit(
  options: { clientId?: string; cronSecret?: string } = {},
): Promise<AdapterTestKit> {
  const clientId = options.clientId ?? 'oac_adapter_test'
  const cronSecret = options.cronSecret ?? 'adapter-test-cron-secret-0123456789'
  const credited: string[] = []
  const [issuer, sandbox] = await Promise.all([
    createTestIssuer({ audience: clientId }),
    createVercelSandbox(),
  ])
  const cents = new Map<string, number>()
  const notified: string[] = []
  const logged: string[] = []
  const real = createBalanceReporter({
    store: memoryStore({ encryptionKey: generateEncryptionKey() }),
    getBalances: (id) => [{ currencyValueInCents: cents.get(id) ?? 0, nameLabel: 'Tokens' }],
    apiUrl: sandbox.url,
    coalesceMs: 5,
    logger: silentLogger,
    retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1000 },
  })
  // The real reporter, with notify() recorded so tests can also assert what was NOT notified.
  const reporter = Object.create(real, {
    notify: {
      value: (id: string) => {
        notified.push(id)
        real.notify(id)
      },
    },
  }) as BalanceReporter
  const logger: Logger = {
    warn: (message) => logged.push(message),
    error: (message) => logged.push(message),
  }
  return {
    clientId,
    cronSecret,
    credited,
    routeOptions: () => ({
      reporter,
      clientId,
      jwksUrl: issuer.jwksUrl,
      cronSecret,
      logger,
      processedInvoices: memoryProcessedInvoices(), // chosen on purpose: no startup warning
      onPurchase: ({ installationId, invoice }) => {
        credited.push(invoice.invoiceId)
        cents.set(installationId, (cents.get(installationId) ?? 0) + Number(invoice.total) * 100)
      },
    }),
    issuer,
    sandbox,
    reporter,
    cents,
    notified,
    logged,
    logger,
    headers: (installationId, extra = {}) => ({
      authorization: `Bearer ${issuer.sign({ installation_id: installationId })}`,
      'x-vercel-auth': 'user',
      'content-type': 'application/json',
      ...extra,
    }),
    upsertBody: (installationId) => {
      sandbox.addInstallation(installationId, { accessToken: `tok_${installationId}` })
      return JSON.stringify({
        scopes: [],
        acceptedPolicies: {},
        credentials: { access_token: `tok_${installationId}`, token_type: 'Bearer' },
      })
    },
    async close() {
      await real.close()
      await Promise.all([issuer.close(), sandbox.close()])
    },
  }
}
