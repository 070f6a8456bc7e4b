import { afterEach } from 'vitest'
import type { SubmitBalancesBody } from '../wire/balance-schema.js'
import type { VercelClient, VercelClientOptions } from './submitter-types.js'
import { type Step, startTestServer, type TestServer } from './test-server.js'
import { createVercelClient } from './vercel-client.js'

/** Shared set-up for the submitter tests: tiny delays, cleanup after each test. */
export const TOKEN = `tok_SECRET_${Math.random().toString(36).slice(2)}`
export const INSTALLATION_ID = 'icfg_abc123'
export const BODY: SubmitBalancesBody = {
  timestamp: '2025-01-01T00:00:00.000Z',
  balances: [{ currencyValueInCents: 1234, credit: '1,234 Tokens', nameLabel: 'Tokens' }],
}

export const FAST_RETRY: VercelClientOptions['retry'] = {
  maxAttempts: 3,
  initialDelayMs: 10,
  maxDelayMs: 40,
  maxRetryAfterMs: 2_000,
}

/** Registers `afterEach` cleanup; call once at the top of a test file. */
export function useSubmitterHarness() {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
  })
  return {
    async server(fallback?: Step): Promise<TestServer> {
      const server = await startTestServer(fallback)
      cleanups.push(() => server.close())
      return server
    },
    client(apiUrl: string, overrides: Partial<VercelClientOptions> = {}): VercelClient {
      const client = createVercelClient({
        apiUrl,
        timeoutMs: 2_000,
        connections: 4,
        retry: FAST_RETRY,
        ...overrides,
      })
      cleanups.push(() => client.close())
      return client
    },
  }
}

export function submit(client: VercelClient, extra: { signal?: AbortSignal } = {}) {
  return client.submitBalances({
    installationId: INSTALLATION_ID,
    accessToken: TOKEN,
    body: BODY,
    ...extra,
  })
}

export function vercelError(status: number, code: string, message: string): Step {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-vercel-id': `iad1::${code}` },
    body: JSON.stringify({ error: { code, message } }),
  }
}
