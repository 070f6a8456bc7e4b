import {
  type BalanceReporter,
  createBalanceReporter,
  generateEncryptionKey,
  type Logger,
  memoryStore,
  silentLogger,
} from '@prepaid-balances/core'
import {
  createTestIssuer,
  createVercelSandbox,
  type TestIssuer,
  type VercelSandbox,
} from '@prepaid-balances/core/testing'

export const CLIENT_ID = 'oac_hono_test'
export const CRON_SECRET = 'hono-cron-secret-0123456789'

/** Issuer, sandbox, a partner ledger in cents and a real reporter over a memory store. */
export interface Kit {
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

export async function createKit(): Promise<Kit> {
  const [issuer, sandbox] = await Promise.all([
    createTestIssuer({ audience: CLIENT_ID }),
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
  return {
    issuer,
    sandbox,
    reporter,
    cents,
    notified,
    logged,
    logger: {
      warn: (message) => logged.push(message),
      error: (message) => logged.push(message),
    },
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
