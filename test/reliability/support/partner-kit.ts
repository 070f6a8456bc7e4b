import { createServer } from 'node:http'
import { countingStore } from './counting-store.js'
import {
  type BalanceReporter,
  type BalanceReporterOptions,
  type BalanceStore,
  createBalanceReporter,
  createTestIssuer,
  createVercelSandbox,
  express,
  generateEncryptionKey,
  listenLocally,
  memoryStore,
  type PartnerApiOptions,
  type PurchaseContext,
  prepaidBalances,
  prepaidBalancesRouter,
  type TestIssuer,
  type VercelSandbox,
} from './packages.js'
import { capturingLogger, Ledger, type LogLine } from './reporter-kit.js'

export type Adapter = 'hono' | 'express'
export const ADAPTERS: readonly Adapter[] = ['hono', 'express']

export const CLIENT_ID = 'oac_reliability_client'
export const CRON_SECRET = 'cron-Secret-4f9a2c7e1b3d5a8f'

/** A partner's app with the Marketplace routes, a real reporter, issuer and sandbox around it. */
export interface PartnerKit {
  adapter: Adapter
  issuer: TestIssuer
  sandbox: VercelSandbox
  reporter: BalanceReporter
  store: ReturnType<typeof countingStore>
  ledger: Ledger
  /** Every `onPurchase` call, in order. */
  purchases: PurchaseContext[]
  logs: LogLine[]
  /** One HTTP request to the app: `app.request()` for Hono, a real socket for Express. */
  send(path: string, init?: RequestInit): Promise<Response>
  /** Headers of a genuine Vercel call for `installationId`. */
  headers(installationId: string, extra?: Record<string, string>): Record<string, string>
  upsertBody(accessToken: string): string
  /** Installs `id` through the app, as Vercel would, and waits for its first report. */
  install(id: string, accessToken?: string): Promise<string>
  close(): Promise<void>
}

export interface PartnerKitOptions {
  api?: Partial<PartnerApiOptions>
  reporter?: Partial<BalanceReporterOptions>
  /** The store under the counting wrapper. Default a memory store. */
  store?: BalanceStore
}

export async function createPartnerKit(
  adapter: Adapter,
  options: PartnerKitOptions = {},
): Promise<PartnerKit> {
  const [issuer, sandbox] = await Promise.all([
    createTestIssuer({ audience: CLIENT_ID }),
    createVercelSandbox(),
  ])
  const ledger = new Ledger()
  const logs: LogLine[] = []
  const purchases: PurchaseContext[] = []
  const store = countingStore(
    options.store ?? memoryStore({ encryptionKey: generateEncryptionKey() }),
  )
  const logger = capturingLogger(logs)
  const reporter = createBalanceReporter({
    store,
    getBalances: ledger.balances,
    apiUrl: sandbox.url,
    autoStart: false,
    coalesceMs: 5,
    retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
    logger,
    ...options.reporter,
  })
  const apiOptions: PartnerApiOptions = {
    reporter,
    clientId: CLIENT_ID,
    jwksUrl: issuer.jwksUrl,
    cronSecret: CRON_SECRET,
    logger,
    onPurchase: (context) => {
      purchases.push(context)
      ledger.add(context.installationId, Math.round(Number(context.invoice.total) * 100))
    },
    ...options.api,
  }
  const { send, stop } = adapter === 'hono' ? honoApp(apiOptions) : await expressApp(apiOptions)
  const kit: PartnerKit = {
    adapter,
    issuer,
    sandbox,
    reporter,
    store,
    ledger,
    purchases,
    logs,
    send,
    headers: (installationId, extra = {}) => ({
      authorization: `Bearer ${issuer.sign({ installation_id: installationId })}`,
      'x-vercel-auth': 'user',
      'content-type': 'application/json',
      ...extra,
    }),
    upsertBody: (accessToken) =>
      JSON.stringify({
        scopes: ['read-write:integration-resource'],
        acceptedPolicies: { toc: '2025-01-01T00:00:00Z' },
        credentials: { access_token: accessToken, token_type: 'Bearer' },
        account: {
          name: 'Acme',
          url: 'https://acme.example',
          contact: { email: 'ops@acme.example' },
        },
      }),
    async install(id, accessToken = `tok_${id}_${Math.random().toString(36).slice(2)}`) {
      sandbox.addInstallation(id, { accessToken })
      const res = await send(`/v1/installations/${id}`, {
        method: 'PUT',
        headers: kit.headers(id),
        body: kit.upsertBody(accessToken),
      })
      if (res.status !== 200) throw new Error(`install ${id}: ${res.status} ${await res.text()}`)
      await reporter.flush()
      return accessToken
    },
    async close() {
      await stop()
      await reporter.close()
      await Promise.all([issuer.close(), sandbox.close()])
    },
  }
  return kit
}

function honoApp(options: PartnerApiOptions) {
  const app = prepaidBalances(options)
  return {
    send: async (path: string, init?: RequestInit) => app.request(path, init),
    stop: async () => {},
  }
}

async function expressApp(options: PartnerApiOptions) {
  const app = express()
  app.use(prepaidBalancesRouter(options))
  const server = await listenLocally(createServer(app), {})
  return {
    send: (path: string, init?: RequestInit) => fetch(`${server.origin}${path}`, init),
    stop: server.close,
  }
}
